pub mod domain_blocks;
