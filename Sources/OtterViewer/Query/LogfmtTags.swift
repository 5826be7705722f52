import Foundation

/// The search form's tags in logfmt, as the Jaeger UI writes them: `key=value` pairs separated by spaces, a value
/// with spaces in double quotes (`http.route="/a b"`, `\\"` and `\\\\` escape inside quotes).
enum LogfmtTags {
    static func parse(_ text: String) throws -> [(key: String, value: String)] {
        var pairs: [(key: String, value: String)] = []
        var characters = Substring(text)[...]
        func skipSpaces() { characters = characters.drop { $0 == " " || $0 == "\t" } }
        skipSpaces()
        while !characters.isEmpty {
            let key = characters.prefix { $0 != "=" && $0 != " " && $0 != "\t" }
            characters = characters.dropFirst(key.count)
            guard !key.isEmpty, characters.first == "=" else {
                throw InvalidParameter("malformed tags: expecting key=value, received: \(text.prefix(200))")
            }
            characters = characters.dropFirst()
            var value = ""
            if characters.first == "\"" {
                characters = characters.dropFirst()
                var closed = false
                while let character = characters.first {
                    characters = characters.dropFirst()
                    if character == "\"" {
                        closed = true
                        break
                    }
                    if character == "\\", let escaped = characters.first {
                        value.append(escaped)
                        characters = characters.dropFirst()
                    } else {
                        value.append(character)
                    }
                }
                guard closed else { throw InvalidParameter("malformed tags: unterminated quote in \(text.prefix(200))") }
            } else {
                let raw = characters.prefix { $0 != " " && $0 != "\t" }
                characters = characters.dropFirst(raw.count)
                value = String(raw)
            }
            pairs.append((String(key), value))
            skipSpaces()
        }
        return pairs
    }
}

/// Tags given as a JSON object (Jaeger's `tags={…}`, Jaeger UI's URLs, api_v3's `query.attributes`): strings as they
/// are, and booleans and numbers as the text a stored attribute of that type is matched by (`true`, `200`, `1.5`).
enum JSONTags {
    /// Why a parameter is not a JSON map of tags.
    enum Problem: Error {
        case notAnObject
        case notText(key: String)
    }

    /// The `(key, value)` pairs of a JSON object, sorted by key: the one reading of tags given as JSON (Jaeger's `tags`,
    /// api_v3's `query.attributes`, Jaeger UI's URLs). Values are strings; unless `stringsOnly` (Jaeger's own API
    /// refuses anything else), numbers and booleans are taken as their text.
    static func pairs(_ text: String, stringsOnly: Bool = false) throws(Problem) -> [(key: String, value: String)] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { throw .notAnObject }
        var pairs: [(key: String, value: String)] = []
        for key in object.keys.sorted() {
            guard let value = object[key], let text = stringsOnly ? value as? String : Self.text(value) else {
                throw .notText(key: key)
            }
            pairs.append((key, text))
        }
        return pairs
    }

    /// A JSON value as tag text; nil for objects, arrays and null.
    static func text(_ value: Any) -> String? {
        switch value {
        case let text as String: return text
        case let number as NSNumber:
            // JSONSerialization gives booleans as NSNumbers of type `c` (char); `stringValue` would make them "1"/"0".
            return String(cString: number.objCType) == "c" ? (number.boolValue ? "true" : "false") : number.stringValue
        default: return nil
        }
    }
}
