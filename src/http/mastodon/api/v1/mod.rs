pub mod accounts;
pub mod apps;
pub mod instance;
