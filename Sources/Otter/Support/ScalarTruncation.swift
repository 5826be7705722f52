extension String {
    /// The string cut to its first `limit` Unicode scalars (code points, as opentelemetry-python counts
    /// characters), or nil when it is not longer. Counting scalars rather than Swift `Character`s bounds the bytes
    /// kept: one grapheme cluster can hold any number of combining marks.
    package func truncated(toUnicodeScalars limit: Int) -> String? {
        let limit = Swift.max(0, limit)
        let scalars = unicodeScalars
        guard let end = scalars.index(scalars.startIndex, offsetBy: limit, limitedBy: scalars.endIndex), end != scalars.endIndex
        else { return nil }
        return String(scalars[..<end])
    }
}
