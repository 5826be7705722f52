/// Service colours that stay the same from page to page: each service name hashes to a preferred colour, and
/// services that want the same colour take the next free one in name order. The viewer assigns colours over every
/// service it stores, so a service keeps its colour on search results, trace pages, the monitor and the graph.
enum ServicePalette {
    /// Twenty colours distinct from each other, readable on light and dark backgrounds.
    static let colors = [
        "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#79706e",
        "#1f77b4", "#17becf", "#bcbd22", "#8c564b", "#e377c2", "#2ca02c", "#d62728", "#9467bd", "#ff7f0e", "#7f7f7f",
    ]

    /// A colour for each name.
    static func assign(_ names: some Sequence<String>) -> [String: String] {
        var result: [String: String] = [:]
        var taken = Set<Int>()
        for name in Set(names).sorted() {
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
