/// The `pattern` of `get_services` and `get_span_names`: alternatives separated by `|`, each a piece of text the name
/// must contain (any case), `^` and `$` anchoring it at the start or end. Not a regular expression: names come from
/// anyone who can send spans, and a backtracking regular expression over them could run for minutes; this matches in
/// linear time. A backslash takes the next character literally (`\|`, `\.`); a regular expression's `.*` between
/// pieces is not understood (a pattern is one piece per alternative).
struct NamePattern {
    struct Alternative {
        var text: String
        var atStart: Bool
        var atEnd: Bool
    }

    let alternatives: [Alternative]

    init(_ pattern: String) {
        var alternatives: [Alternative] = []
        var current = ""
        var escaped = false
        var atStart = false
        var atEnd = false
        func finish() {
            alternatives.append(Alternative(text: current.lowercased(), atStart: atStart, atEnd: atEnd))
            current = ""
            atStart = false
            atEnd = false
        }
        for character in pattern {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "|" {
                finish()
            } else if character == "^", current.isEmpty, !atStart {
                atStart = true
            } else if character == "$" {
                atEnd = true
            } else {
                if atEnd {
                    // `$` in the middle was text after all.
                    current.append("$")
                    atEnd = false
                }
                current.append(character)
            }
        }
        finish()
        self.alternatives = alternatives
    }

    func matches(_ name: String) -> Bool {
        let lowered = name.lowercased()
        return alternatives.contains { alternative in
            switch (alternative.atStart, alternative.atEnd) {
            case (true, true): lowered == alternative.text
            case (true, false): lowered.hasPrefix(alternative.text)
            case (false, true): lowered.hasSuffix(alternative.text)
            case (false, false): alternative.text.isEmpty || lowered.contains(alternative.text)
            }
        }
    }
}
