/// Text from spans (names, services, keys) made safe to print on one line of a terminal or a file: backslashes,
/// control characters (line breaks, escape sequences), DEL, C1 controls, the Unicode line and paragraph separators and
/// the bidirectional controls become escapes (`\\`, `\n`, `\u{1B}`), so a name can neither break a line nor colour a terminal, and two different
/// names never print the same.
package enum LineText {
    package static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: needsEscape) else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case let other where needsEscape(other): result += "\\u{" + String(other.value, radix: 16, uppercase: true) + "}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// JSON text (whose backslashes and C0 controls are escaped already) with the characters JSON leaves raw but a
    /// terminal or an editor acts on (DEL, C1 controls, line and paragraph separators, bidirectional controls) escaped
    /// as `\u{…}`. JSON escapes every backslash, so the escape cannot be mistaken for text of the value.
    package static func escapingInvisibles(_ json: String) -> String {
        guard json.unicodeScalars.contains(where: isInvisible) else { return json }
        var result = ""
        for scalar in json.unicodeScalars {
            if isInvisible(scalar) {
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\\" || scalar.value < 0x20 || isInvisible(scalar)
    }

    private static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x7F...0x9F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C: return true
        default: return false
        }
    }
}
