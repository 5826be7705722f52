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

/// Tag values given as JSON (Jaeger UI's `tags={…}` in URLs, api_v3's `query.attributes`): strings as they are, and
/// booleans and numbers as the text a stored attribute of that type is matched by (`true`, `200`, `1.5`).
enum JSONTagValue {
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
