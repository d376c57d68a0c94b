/// The library suite's version, written into every artifact's metadata.
public enum IPTVersion {
    public static let string = "0.1.0"
}
