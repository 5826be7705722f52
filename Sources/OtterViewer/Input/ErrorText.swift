/// Errors told to people and agents.
enum ErrorText {
    /// An error as a short sentence, not a Swift dump: at most 200 characters.
    static func short(_ error: any Error) -> String {
        let text = String(describing: error)
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }
}
