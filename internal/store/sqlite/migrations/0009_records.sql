-- The DPO's records (issue 8): controller details that extend
-- tenant_profiles (0004), what the tenant declared about each channel
-- provider as a processor, the versions of the record of processing, DPIA
-- worksheets and the breach register. None of these hold a data subject's
-- data: they describe the processing, and breaches hold numbers only.

CREATE TABLE controller_details (
    tenant_id                 TEXT PRIMARY KEY REFERENCES tenants(id),
    address                   TEXT NOT NULL,
    representative            TEXT NOT NULL,
    representative_contact    TEXT NOT NULL,
    dpo_phone                 TEXT NOT NULL,
    supervisory_authority     TEXT NOT NULL,
    supervisory_authority_url TEXT NOT NULL,
    updated_at                INTEGER NOT NULL
) STRICT;

-- Keyed by channel, like channel_providers: a provider replaced on a
-- channel keeps its declaration until the tenant changes it.
CREATE TABLE processor_details (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    channel    TEXT NOT NULL,
    name       TEXT NOT NULL,
    country    TEXT NOT NULL,
    transfer   TEXT NOT NULL,
    dpa_ref    TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, channel)
) STRICT;

-- Append-only history of generated records; (tenant, kind, version) is
-- unique, so two nodes that notice the same change store it once.
CREATE TABLE record_versions (
    tenant_id  TEXT NOT NULL REFERENCES tenants(id),
    kind       TEXT NOT NULL,
    version    INTEGER NOT NULL,
    digest     TEXT NOT NULL,
    body       BLOB NOT NULL,
    changes    BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, kind, version)
) STRICT;

CREATE TABLE dpias (
    tenant_id     TEXT NOT NULL REFERENCES tenants(id),
    purpose       TEXT NOT NULL,
    answers       BLOB NOT NULL,
    risks         BLOB,
    signed_by     TEXT NOT NULL,
    signed_at     INTEGER NOT NULL,
    signed_digest TEXT NOT NULL,
    sign_note     TEXT NOT NULL,
    updated_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, purpose)
) STRICT;

CREATE TABLE breaches (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants(id),
    discovered_at   INTEGER NOT NULL,
    occurred_from   INTEGER NOT NULL,
    occurred_to     INTEGER NOT NULL,
    nature          TEXT NOT NULL,
    categories      TEXT NOT NULL, -- JSON array of data categories
    channel         TEXT NOT NULL,
    approx_subjects INTEGER NOT NULL,
    approx_records  INTEGER NOT NULL,
    consequences    TEXT NOT NULL,
    measures        TEXT NOT NULL,
    notified_at     INTEGER NOT NULL,
    late_reason     TEXT NOT NULL,
    recorded_by     TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX breaches_tenant ON breaches(tenant_id, discovered_at);
