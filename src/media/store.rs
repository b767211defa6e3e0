//! Where media files live, through `object_store`: a local folder served by Rookery under
//! `/media/` (the default), or an S3-compatible bucket served from its public address.
//!
//! Keys: `attachments/{id}/original.{ext}`, `attachments/{id}/small.{ext}` for local media;
//! `cache/{id}/…` for cached remote media; `uploads/{id}` for uploads waiting to be transcoded.
//! A key's content never changes, so files are served as immutable.

use std::path::Path;
use std::sync::Arc;

use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::config::{Config, MediaBackend};

/// A cheap-to-clone handle on the configured store.
#[derive(Clone, Debug)]
pub struct MediaStore {
    inner: Arc<dyn ObjectStore>,
    /// Public URL prefix of keys, without a trailing slash.
    public_base: String,
}

impl MediaStore {
    /// Opens the store `cfg.media` names. Errors: the local folder cannot be created, or the S3
    /// settings are incomplete.
    pub fn open(cfg: &Config) -> anyhow::Result<MediaStore> {
        match cfg.media.backend {
            MediaBackend::Local => {
                std::fs::create_dir_all(&cfg.media.dir)?;
                let fs = object_store::local::LocalFileSystem::new_with_prefix(&cfg.media.dir)?;
                Ok(MediaStore {
                    inner: Arc::new(fs),
                    public_base: format!("{}/media", cfg.base_url()),
                })
            }
            MediaBackend::S3 => {
                let s3 = &cfg.media.s3;
                anyhow::ensure!(
                    !s3.endpoint.is_empty() && !s3.bucket.is_empty(),
                    "media.backend = \"s3\" needs media.s3.endpoint and media.s3.bucket"
                );
                let store = object_store::aws::AmazonS3Builder::new()
                    .with_endpoint(&s3.endpoint)
                    .with_bucket_name(&s3.bucket)
                    .with_region(if s3.region.is_empty() {
                        "us-east-1"
                    } else {
                        &s3.region
                    })
                    .with_access_key_id(&s3.access_key_id)
                    .with_secret_access_key(&s3.secret_access_key)
                    .with_allow_http(s3.endpoint.starts_with("http://"))
                    .with_virtual_hosted_style_request(false)
                    .build()?;
                let public_base = if s3.public_base_url.is_empty() {
                    format!("{}/{}", s3.endpoint.trim_end_matches('/'), s3.bucket)
                } else {
                    s3.public_base_url.trim_end_matches('/').to_string()
                };
                Ok(MediaStore {
                    inner: Arc::new(store),
                    public_base,
                })
            }
        }
    }

    /// The public URL of `key`.
    pub fn url(&self, key: &str) -> String {
        format!("{}/{key}", self.public_base)
    }

    /// Stores `bytes` under `key` (whole or not at all: the local backend writes a temporary file
    /// and renames it; S3 puts are atomic). `content_type` is recorded where the backend keeps one.
    pub async fn put(
        &self,
        key: &str,
        bytes: impl Into<bytes::Bytes>,
        content_type: &str,
    ) -> anyhow::Result<()> {
        let opts = object_store::PutOptions {
            attributes: [
                (
                    object_store::Attribute::ContentType,
                    object_store::AttributeValue::from(content_type.to_string()),
                ),
                (
                    object_store::Attribute::CacheControl,
                    object_store::AttributeValue::from(
                        "public, max-age=31536000, immutable".to_string(),
                    ),
                ),
            ]
            .into_iter()
            .collect(),
            ..Default::default()
        };
        let path = StorePath::parse(key)?;
        // A payload clone shares the bytes; only the fallback needs a second reference.
        let payload = PutPayload::from(bytes.into());
        let result = self.inner.put_opts(&path, payload.clone(), opts).await;
        match result {
            // The local file system keeps no attributes; store without them.
            Err(object_store::Error::NotImplemented { .. }) => {
                self.inner.put(&path, payload).await?;
            }
            other => {
                other?;
            }
        }
        Ok(())
    }

    /// Stores the file at `file` under `key`.
    pub async fn put_file(&self, key: &str, file: &Path, content_type: &str) -> anyhow::Result<()> {
        let bytes = tokio::fs::read(file).await?;
        self.put(key, bytes, content_type).await
    }

    /// Stores the local file `file` under `key` without holding it in memory: a multipart upload
    /// of 5 MiB parts (one put for smaller files). Returns its size in bytes.
    pub async fn put_file_streamed(&self, key: &str, file: &Path) -> anyhow::Result<u64> {
        use tokio::io::AsyncWriteExt;
        let path = StorePath::parse(key)?;
        let mut out =
            object_store::buffered::BufWriter::with_capacity(self.inner.clone(), path, 5 << 20);
        let mut input = tokio::fs::File::open(file).await?;
        let size = tokio::io::copy(&mut input, &mut out).await?;
        out.shutdown().await?;
        Ok(size)
    }

    /// The bytes under `key` as a stream of chunks (for files too large to hold).
    pub async fn get_stream(
        &self,
        key: &str,
    ) -> anyhow::Result<futures_util::stream::BoxStream<'static, object_store::Result<bytes::Bytes>>>
    {
        let path = StorePath::parse(key)?;
        Ok(self.inner.get(&path).await?.into_stream())
    }

    /// The bytes under `key`.
    pub async fn get(&self, key: &str) -> anyhow::Result<Vec<u8>> {
        let path = StorePath::parse(key)?;
        let bytes = self.inner.get(&path).await?.bytes().await?;
        Ok(bytes.to_vec())
    }

    /// Copies `key` into the local file `to` (for ffmpeg, which reads files).
    pub async fn download(&self, key: &str, to: &Path) -> anyhow::Result<()> {
        let bytes = self.get(key).await?;
        tokio::fs::write(to, bytes).await?;
        Ok(())
    }

    /// Deletes `key`; a missing key is not an error.
    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        let path = StorePath::parse(key)?;
        match self.inner.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}
