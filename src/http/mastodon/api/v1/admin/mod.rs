pub mod deliveries;
pub mod domain_blocks;
