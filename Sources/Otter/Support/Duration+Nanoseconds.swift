extension Duration {
    /// The duration in whole nanoseconds, clamped to `Int64`'s range instead of overflowing: durations come from
    /// configuration and flags, and a huge one means "practically forever".
    package var clampedNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (total, sumOverflow) = whole.addingReportingOverflow(attoseconds / 1_000_000_000)
        if sumOverflow { return attoseconds < 0 ? .min : .max }
        return total
    }
}
