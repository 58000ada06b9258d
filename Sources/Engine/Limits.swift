/// Fixed limits of the harness.
public enum Limits {
    /// The largest transfer one operation may ask for (reproducers asking for more are refused).
    public static let maxTransfer = 1 << 20
}
