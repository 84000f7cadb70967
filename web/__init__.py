"""The front door (统一入口): one HTTP address for people — sign-in, drafters' pages,
document downloads, and the Prefect UI and API behind sessions and a role allow list."""
