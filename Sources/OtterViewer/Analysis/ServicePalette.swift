/// Service colours that stay the same from page to page and over time: each service name hashes to a preferred colour,
/// and a service whose colour is taken by one before it takes the next free one. The viewer assigns colours over every
/// service it stores, in the order it first stored them, so a service keeps its colour on search results, trace
/// pages, the monitor and the graph, and when new services arrive.
enum ServicePalette {
    /// Sixteen colours of different hues or lightness (after Sasha Trubetskoy's list of distinct colours), none of
    /// them near another, readable as bars on light and dark backgrounds; no red or maroon, which read as errors.
    static let colors = [
        "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45", "#469990",
        "#9a6324", "#808000", "#a9a9a9", "#ffe119", "#fabed4", "#dcbeff", "#aaffc3", "#ffd8b1",
    ]

    /// A colour for each name, taking the names in the order given (the first of two names that want one colour
    /// gets it).
    static func assign(_ names: some Sequence<String>) -> [String: String] {
        var result: [String: String] = [:]
        var taken = Set<Int>()
        for name in names where result[name] == nil {
            var slot = preferredSlot(name)
            // Once every colour is taken, colours repeat in hash order.
            if taken.count < colors.count {
                while taken.contains(slot) { slot = (slot + 1) % colors.count }
            }
            taken.insert(slot)
            result[name] = colors[slot]
        }
        return result
    }

    /// FNV-1a over the name's UTF-8: the same slot on every run and platform (Swift's `hashValue` is seeded per run).
    static func preferredSlot(_ name: String) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return Int(hash % UInt64(colors.count))
    }
}

extension TraceReader {
    /// A colour for every stored service, the same on every page (``ServicePalette``): services are taken in the order
    /// they were first stored, so a new service never takes an older one's colour.
    func serviceColors() async throws -> [String: String] {
        ServicePalette.assign(try await servicesInFirstSeenOrder())
    }
}
