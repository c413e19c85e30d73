//! The i3lic issuer: keys, catalog, ledger and issuing activation files.
