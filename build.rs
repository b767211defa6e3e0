// `sqlx::migrate!` reads `migrations/` at compile time; without this, adding a migration alone
// would not rebuild the crate (as sqlx's documentation advises).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
