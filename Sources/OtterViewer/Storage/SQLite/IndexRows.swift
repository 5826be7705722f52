import GRDB
import GRDBSQLite

/// A value of an index row. Index rows are bound straight to SQLite: for the thousands of small rows a block adds,
/// building GRDB's `StatementArguments` cost more than inserting them.
enum IndexValue {
    case integer(Int64)
    case blob([UInt8])
}

extension SQLiteTraceStore {
    /// Inserts rows of `columns` values each, 100 rows per statement: far fewer statement executions than one per row.
    static func insertRows(_ insertPrefix: String, columns: Int, values: [IndexValue], _ db: Database) throws {
        let rowsPerStatement = 100
        let rowCount = values.count / columns
        let row = "(" + Array(repeating: "?", count: columns).joined(separator: ",") + ")"
        var firstRow = 0
        while firstRow < rowCount {
            let count = min(rowsPerStatement, rowCount - firstRow)
            let statement = try db.cachedStatement(sql: insertPrefix + Array(repeating: row, count: count).joined(separator: ","))
            // Resets the statement and clears its bindings; GRDB then executes what is bound below.
            statement.setUncheckedArguments(StatementArguments())
            for (offset, value) in values[firstRow * columns..<(firstRow + count) * columns].enumerated() {
                let index = CInt(offset + 1)
                let code: CInt
                switch value {
                case .integer(let integer):
                    code = sqlite3_bind_int64(statement.sqliteStatement, index, integer)
                case .blob(let bytes):
                    code = bytes.withUnsafeBytes { buffer in
                        sqlite3_bind_blob(statement.sqliteStatement, index, buffer.baseAddress, CInt(buffer.count), transientDestructor)
                    }
                }
                guard code == SQLITE_OK else { throw DatabaseError(resultCode: ResultCode(rawValue: code), sql: statement.sql) }
            }
            try statement.execute()
            firstRow += count
        }
    }
}

/// SQLite's `SQLITE_TRANSIENT`: SQLite copies the bytes before the bind call returns.
private let transientDestructor = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
