/// A line diff in the unified style (`-` only in the old text, `+` only in the new, two lines of context), from a
/// longest common subsequence of lines.
enum LineDiff {
    /// Texts longer than this many lines (either side) are not aligned line by line; both are shown whole.
    static let maximumLines = 3000

    static func unified(old: String, new: String, oldName: String = "golden", newName: String = "recorded") -> String {
        let a = lines(old)
        let b = lines(new)
        guard a.count <= maximumLines, b.count <= maximumLines else {
            return "--- \(oldName)\n" + a.map { "-" + $0 }.joined(separator: "\n") + "\n+++ \(newName)\n"
                + b.map { "+" + $0 }.joined(separator: "\n") + "\n"
        }
        // lengths[i][j]: the longest common subsequence of a[i...] and b[j...].
        let width = b.count + 1
        var lengths = [Int32](repeating: 0, count: (a.count + 1) * width)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lengths[i * width + j] =
                    a[i] == b[j]
                    ? lengths[(i + 1) * width + j + 1] + 1 : max(lengths[(i + 1) * width + j], lengths[i * width + j + 1])
            }
        }
        enum Edit {
            case same(String)
            case removed(String)
            case added(String)
            var isChange: Bool {
                if case .same = self { return false }
                return true
            }
        }
        var edits: [Edit] = []
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                edits.append(.same(a[i]))
                i += 1
                j += 1
            } else if j < b.count, i == a.count || lengths[i * width + j + 1] >= lengths[(i + 1) * width + j] {
                edits.append(.added(b[j]))
                j += 1
            } else {
                edits.append(.removed(a[i]))
                i += 1
            }
        }
        let context = 2
        var shown = [Bool](repeating: false, count: edits.count)
        for (index, edit) in edits.enumerated() where edit.isChange {
            for near in max(0, index - context)...min(edits.count - 1, index + context) { shown[near] = true }
        }
        var text = "--- \(oldName)\n+++ \(newName)\n"
        var skipping = false
        for (index, edit) in edits.enumerated() {
            guard shown[index] else {
                if !skipping { text += "@@\n" }
                skipping = true
                continue
            }
            skipping = false
            switch edit {
            case .same(let line): text += " \(line)\n"
            case .removed(let line): text += "-\(line)\n"
            case .added(let line): text += "+\(line)\n"
            }
        }
        return text
    }

    private static func lines(_ text: String) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }
}
