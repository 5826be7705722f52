/// Text from spans (names, services, keys) made safe to print on one line of a terminal or a file: backslashes,
/// control characters (line breaks, escape sequences), DEL, C1 controls and the Unicode line and paragraph separators
/// become escapes (`\\`, `\n`, `\u{1B}`), so a name can neither break a line nor colour a terminal, and two different
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

    private static func needsEscape(_ scalar: Unicode.Scalar) -> Bool {
        scalar == "\\" || scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028
            || scalar.value == 0x2029
    }
}
