import GRDB

extension SQLiteTraceStore {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        LegacySpanRows.registerMigrations(in: &migrator)
        migrator.registerMigration("v5: span blocks") { db in
            try db.execute(
                sql: """
                    CREATE TABLE span_block (
                        id INTEGER PRIMARY KEY,
                        minStartTime INTEGER NOT NULL,
                        maxStartTime INTEGER NOT NULL,
                        spanCount INTEGER NOT NULL,
                        decodedSize INTEGER NOT NULL,
                        deflated BLOB NOT NULL
                    );
                    CREATE INDEX span_block_by_max_start ON span_block(maxStartTime);
                    CREATE TABLE trace_block (
                        segment INTEGER NOT NULL,
                        traceID BLOB NOT NULL,
                        blockID INTEGER NOT NULL,
                        PRIMARY KEY (segment, traceID, blockID)
                    ) WITHOUT ROWID;
                    CREATE TABLE term_block (
                        segment INTEGER NOT NULL,
                        term INTEGER NOT NULL,
                        blockID INTEGER NOT NULL,
                        PRIMARY KEY (segment, term, blockID)
                    ) WITHOUT ROWID;
                    CREATE TABLE operation (
                        id INTEGER PRIMARY KEY,
                        service TEXT NOT NULL,
                        name TEXT NOT NULL,
                        kind INTEGER NOT NULL,
                        UNIQUE (service, name, kind)
                    );
                    CREATE TABLE operation_block (
                        operationID INTEGER NOT NULL,
                        blockID INTEGER NOT NULL,
                        minStartTime INTEGER NOT NULL,
                        maxStartTime INTEGER NOT NULL,
                        minDuration INTEGER NOT NULL,
                        maxDuration INTEGER NOT NULL,
                        errorCount INTEGER NOT NULL,
                        PRIMARY KEY (operationID, blockID)
                    ) WITHOUT ROWID;
                    CREATE INDEX operation_block_by_max_start ON operation_block(maxStartTime);
                    CREATE TABLE service_call (
                        blockID INTEGER NOT NULL,
                        parentService TEXT NOT NULL,
                        childService TEXT NOT NULL,
                        callCount INTEGER NOT NULL,
                        minStartTime INTEGER NOT NULL,
                        maxStartTime INTEGER NOT NULL,
                        PRIMARY KEY (blockID, parentService, childService)
                    ) WITHOUT ROWID;
                    CREATE TABLE remote_child (
                        startTime INTEGER NOT NULL,
                        traceID BLOB NOT NULL,
                        parentSpanID INTEGER NOT NULL,
                        operationID INTEGER NOT NULL,
                        blockID INTEGER NOT NULL,
                        PRIMARY KEY (startTime, traceID, parentSpanID, operationID)
                    ) WITHOUT ROWID;
                    CREATE TABLE remote_parent (
                        minute INTEGER NOT NULL,
                        traceID BLOB NOT NULL,
                        spanID INTEGER NOT NULL,
                        operationID INTEGER NOT NULL,
                        blockID INTEGER NOT NULL,
                        PRIMARY KEY (minute, traceID, spanID)
                    ) WITHOUT ROWID;
                    """)
            // Converted spans get their span metrics rows and first-seen services too, so the tables the writer fills
            // exist already.
            try db.execute(sql: operationMinuteTable)
            try db.execute(sql: serviceSeenTable)
            // Block inserts read the forwarding mark (v10), so its table exists before the first block is written.
            try db.execute(sql: forwardStateTable)
            try LegacySpanRows.convert(db) { spans in try Self.insert(spans, into: db) }
        }
        migrator.registerMigration("v6: operation minutes") { db in
            // The span metrics' counts (``OperationMinute``), one row per operation and minute whichever blocks the
            // spans are in; spans stored before this version are counted from their blocks.
            try db.execute(sql: operationMinuteTable)
            try backfillOperationMinutes(db)
        }
        migrator.registerMigration("v7: log blocks") { db in
            // Log records (``SQLiteTraceStore/write(_:)-(OTLPLogs)``), in blocks with their own indexes.
            try db.execute(
                sql: """
                    CREATE TABLE log_block (
                        id INTEGER PRIMARY KEY,
                        minTime INTEGER NOT NULL,
                        maxTime INTEGER NOT NULL,
                        maxSeverity INTEGER NOT NULL,
                        recordCount INTEGER NOT NULL,
                        decodedSize INTEGER NOT NULL,
                        deflated BLOB NOT NULL
                    );
                    CREATE INDEX log_block_by_max_time ON log_block(maxTime);
                    CREATE TABLE log_trace_block (
                        segment INTEGER NOT NULL,
                        traceID BLOB NOT NULL,
                        blockID INTEGER NOT NULL,
                        PRIMARY KEY (segment, traceID, blockID)
                    ) WITHOUT ROWID;
                    CREATE TABLE log_term_block (
                        segment INTEGER NOT NULL,
                        term INTEGER NOT NULL,
                        blockID INTEGER NOT NULL,
                        PRIMARY KEY (segment, term, blockID)
                    ) WITHOUT ROWID;
                    CREATE TABLE log_service (
                        name TEXT PRIMARY KEY,
                        term INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v8: services in first-seen order") { db in
            // Every service ever stored, with when it was first seen: colours follow this order, so retention deleting a
            // service's oldest operations (or the whole service) never shifts the colours of the others.
            try db.execute(sql: serviceSeenTable)
            try db.execute(
                sql: "INSERT OR IGNORE INTO service_seen (service, seen) SELECT service, MIN(id) FROM operation GROUP BY service")
        }
        migrator.registerMigration("v9: log blocks whose words are not indexed") { db in
            try db.execute(sql: "ALTER TABLE log_block ADD COLUMN wordsIndexed INTEGER NOT NULL DEFAULT 1")
        }
        migrator.registerMigration("v10: forwarding progress") { db in
            try db.execute(sql: forwardStateTable)
        }
        return migrator
    }

    static let serviceSeenTable = "CREATE TABLE IF NOT EXISTS service_seen (service TEXT PRIMARY KEY, seen INTEGER NOT NULL) WITHOUT ROWID"

    static let operationMinuteTable = """
        CREATE TABLE IF NOT EXISTS operation_minute (
            minute INTEGER NOT NULL,
            operationID INTEGER NOT NULL,
            calls INTEGER NOT NULL,
            errors INTEGER NOT NULL,
            durations BLOB NOT NULL,
            PRIMARY KEY (minute, operationID)
        ) WITHOUT ROWID;
        """
}
