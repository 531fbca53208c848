"""Identity and quotas: users, projects, roles, tokens, the quota ledger and the Keystone v3 API."""
