-- Sessions: PostgreSQL schema for Orleans' ADO.NET grain storage and clustering (Orleans 10.4.2, Npgsql).
-- Written for this project to the query contract of Orleans' ADO.NET providers (sql/README.md). Idempotent: every
-- statement can run again, and scripts/postgres.sh applies the whole file in one transaction.
-- Processes load OrleansQuery once at start: restart silos and clients after changing a query.

SET client_min_messages = warning;

CREATE TABLE IF NOT EXISTS schemaversion (
    version   integer PRIMARY KEY,
    appliedon timestamptz NOT NULL DEFAULT now()
);

-- Unquoted on purpose: the providers run "SELECT QueryKey, QueryText FROM OrleansQuery" unquoted.
CREATE TABLE IF NOT EXISTS orleansquery (
    querykey  text PRIMARY KEY,
    querytext text NOT NULL
);

-- Grain state -----------------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS grainstate (
    grainidhash            integer     NOT NULL,
    graintypehash          integer     NOT NULL,
    serviceid              text        NOT NULL,
    graintypestring        text        NOT NULL, -- the state name, not the grain class
    grainidn0              bigint      NOT NULL,
    grainidn1              bigint      NOT NULL,
    grainidextensionstring text,                 -- NULL for plain Guid keys
    payloadbinary          bytea,                -- NULL once cleared
    version                integer     NOT NULL,
    modifiedon             timestamptz NOT NULL DEFAULT now(),
    purgeafter             timestamptz           -- from the payload header; NULL = keep
);

-- Room on each page for in-place (HOT) updates: a rotation rewrites its row and usually changes no indexed column.
ALTER TABLE grainstate SET (fillfactor = 80);

-- The duplicate guard and the lookup path in one; NULL extensions are equal (trap 4.3/4.4).
CREATE UNIQUE INDEX IF NOT EXISTS grainstate_identity ON grainstate
    (grainidhash, graintypehash, serviceid, graintypestring, grainidn0, grainidn1, grainidextensionstring)
    NULLS NOT DISTINCT;

-- Lets the purge find expired rows without scanning the table.
CREATE INDEX IF NOT EXISTS grainstate_purgeafter ON grainstate (serviceid, purgeafter) WHERE purgeafter IS NOT NULL;

-- Storage/StateSerializer.cs writes a 9-byte header: format 1, then purge-after as big-endian Unix seconds (0 = keep).
CREATE OR REPLACE FUNCTION grainstate_purgeafter(payload bytea) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN payload IS NULL OR length(payload) < 9 OR get_byte(payload, 0) <> 1 THEN NULL
        ELSE to_timestamp(nullif(('x' || encode(substring(payload FROM 2 FOR 8), 'hex'))::bit(64)::bigint, 0))
    END
$$;

-- Cluster membership ----------------------------------------------------------------------------

CREATE TABLE IF NOT EXISTS membershipversion (
    deploymentid text        PRIMARY KEY,
    version      integer     NOT NULL DEFAULT 0,
    modifiedon   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS membership (
    deploymentid text        NOT NULL,
    address      text        NOT NULL,
    port         integer     NOT NULL,
    generation   integer     NOT NULL,
    siloname     text        NOT NULL,
    hostname     text        NOT NULL,
    status       integer     NOT NULL,
    proxyport    integer     NOT NULL,
    suspecttimes text,
    starttime    timestamptz NOT NULL,
    iamalivetime timestamptz NOT NULL,
    PRIMARY KEY (deploymentid, address, port, generation)
);

-- The queries the providers run -----------------------------------------------------------------

-- Columns the provider reads by name carry its exact spelling, quoted: unquoted, PostgreSQL folds them to lower
-- case, and Npgsql then finds each by a second, culture-aware case-insensitive search on every read and write
-- (ICU collation in a process with ICU: an Api node hosting its silo).
INSERT INTO orleansquery (querykey, querytext) VALUES

('ReadFromStorageKey', $q$
SELECT payloadbinary AS "PayloadBinary", version AS "Version"
FROM grainstate
WHERE grainidhash = @GrainIdHash AND graintypehash = @GrainTypeHash
  AND serviceid = @ServiceId AND graintypestring = @GrainTypeString
  AND grainidn0 = @GrainIdN0 AND grainidn1 = @GrainIdN1
  AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
$q$),

-- First write (no version) inserts unless the row exists; later writes update only the version
-- they read. No row back means a conflict, which Orleans reports as InconsistentStateException.
('WriteToStorageKey', $q$
WITH inserted AS (
    INSERT INTO grainstate (grainidhash, graintypehash, serviceid, graintypestring, grainidn0, grainidn1,
                            grainidextensionstring, payloadbinary, version, purgeafter)
    SELECT @GrainIdHash, @GrainTypeHash, @ServiceId, @GrainTypeString, @GrainIdN0, @GrainIdN1,
           @GrainIdExtensionString, @PayloadBinary, 1, grainstate_purgeafter(@PayloadBinary)
    WHERE @GrainStateVersion IS NULL
    ON CONFLICT DO NOTHING
    RETURNING version
), updated AS (
    UPDATE grainstate
    SET payloadbinary = @PayloadBinary, version = version + 1, modifiedon = now(),
        purgeafter = grainstate_purgeafter(@PayloadBinary)
    WHERE @GrainStateVersion IS NOT NULL AND version = @GrainStateVersion
      AND grainidhash = @GrainIdHash AND graintypehash = @GrainTypeHash
      AND serviceid = @ServiceId AND graintypestring = @GrainTypeString
      AND grainidn0 = @GrainIdN0 AND grainidn1 = @GrainIdN1
      AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
    RETURNING version
)
SELECT version AS "NewGrainStateVersion" FROM inserted
UNION ALL
SELECT version FROM updated
$q$),

('ClearStorageKey', $q$
UPDATE grainstate
SET payloadbinary = NULL, version = version + 1, modifiedon = now(), purgeafter = NULL
WHERE version = @GrainStateVersion
  AND grainidhash = @GrainIdHash AND graintypehash = @GrainTypeHash
  AND serviceid = @ServiceId AND graintypestring = @GrainTypeString
  AND grainidn0 = @GrainIdN0 AND grainidn1 = @GrainIdN1
  AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
RETURNING version
$q$),

('DeleteStorageKey', $q$
DELETE FROM grainstate
WHERE version = @GrainStateVersion
  AND grainidhash = @GrainIdHash AND graintypehash = @GrainTypeHash
  AND serviceid = @ServiceId AND graintypestring = @GrainTypeString
  AND grainidn0 = @GrainIdN0 AND grainidn1 = @GrainIdN1
  AND grainidextensionstring IS NOT DISTINCT FROM @GrainIdExtensionString
RETURNING version + 1
$q$),

('InsertMembershipVersionKey', $q$
WITH created AS (
    INSERT INTO membershipversion (deploymentid) VALUES (@DeploymentId)
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT count(*)::integer FROM created
$q$),

-- A LEFT JOIN from the version row: member rows, or one version-only row when there are none.
('MembershipReadAllKey', $q$
SELECT v.version, m.deploymentid, m.address, m.port, m.generation, m.siloname, m.hostname, m.status,
       m.proxyport, m.suspecttimes, m.starttime, m.iamalivetime
FROM membershipversion v
LEFT JOIN membership m ON m.deploymentid = v.deploymentid
WHERE v.deploymentid = @DeploymentId
$q$),

('MembershipReadRowKey', $q$
SELECT v.version, m.deploymentid, m.address, m.port, m.generation, m.siloname, m.hostname, m.status,
       m.proxyport, m.suspecttimes, m.starttime, m.iamalivetime
FROM membershipversion v
LEFT JOIN membership m ON m.deploymentid = v.deploymentid
    AND m.address = @Address AND m.port = @Port AND m.generation = @Generation
WHERE v.deploymentid = @DeploymentId
$q$),

-- The version moves by one only if it is still the one the silo read and the member is new;
-- the version row's lock serializes concurrent inserts.
('InsertMembershipKey', $q$
WITH bumped AS (
    UPDATE membershipversion SET version = version + 1, modifiedon = now()
    WHERE deploymentid = @DeploymentId AND version = @Version
      AND NOT EXISTS (SELECT 1 FROM membership
                      WHERE deploymentid = @DeploymentId AND address = @Address
                        AND port = @Port AND generation = @Generation)
    RETURNING deploymentid
), inserted AS (
    INSERT INTO membership (deploymentid, address, port, generation, siloname, hostname, status,
                            proxyport, starttime, iamalivetime)
    SELECT @DeploymentId, @Address, @Port, @Generation, @SiloName, @HostName, @Status,
           @ProxyPort, @StartTime, @IAmAliveTime
    FROM bumped
    RETURNING 1
)
SELECT count(*)::integer FROM inserted
$q$),

-- Lock the member row first so a concurrent cleanup cannot delete it between the two checks.
('UpdateMembershipKey', $q$
WITH member AS (
    SELECT 1 FROM membership
    WHERE deploymentid = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
    FOR UPDATE
), bumped AS (
    UPDATE membershipversion SET version = version + 1, modifiedon = now()
    WHERE deploymentid = @DeploymentId AND version = @Version AND EXISTS (SELECT 1 FROM member)
    RETURNING 1
), updated AS (
    UPDATE membership SET status = @Status, suspecttimes = @SuspectTimes, iamalivetime = @IAmAliveTime
    WHERE deploymentid = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
      AND EXISTS (SELECT 1 FROM bumped)
    RETURNING 1
)
SELECT count(*)::integer FROM updated
$q$),

-- Heartbeats never touch the version, or they would invalidate every other silo's ETag.
('UpdateIAmAlivetimeKey', $q$
UPDATE membership SET iamalivetime = GREATEST(iamalivetime, @IAmAliveTime)
WHERE deploymentid = @DeploymentId AND address = @Address AND port = @Port AND generation = @Generation
$q$),

('GatewaysQueryKey', $q$
SELECT address, proxyport, generation
FROM membership
WHERE deploymentid = @DeploymentId AND status = @Status AND proxyport > 0
$q$),

('CleanupDefunctSiloEntriesKey', $q$
DELETE FROM membership
WHERE deploymentid = @DeploymentId AND status = 6
  AND iamalivetime < @IAmAliveTime AND starttime < @IAmAliveTime
$q$),

('DeleteMembershipTableEntriesKey', $q$
DELETE FROM membership WHERE deploymentid = @DeploymentId;
DELETE FROM membershipversion WHERE deploymentid = @DeploymentId
$q$)

ON CONFLICT (querykey) DO UPDATE SET querytext = EXCLUDED.querytext;

INSERT INTO schemaversion (version) VALUES (1) ON CONFLICT DO NOTHING;
