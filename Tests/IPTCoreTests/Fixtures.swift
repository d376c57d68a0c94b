import Foundation
import IPTCore

/// Committed fixture files of this test target (Tests/IPTCoreTests/Fixtures), written by
/// scripts/make_core_fixtures.py.
enum Fixtures {
    static func url(_ name: String) -> URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent(name)
    }

    /// ops.safetensors: PyTorch/NumPy reference inputs, outputs and gradients, keyed `<case>.<name>`.
    static let ops: SafeTensors.File? = try? SafeTensors.read(url("ops.safetensors").path)

    /// A JSON fixture, decoded.
    static func json<T: Decodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: url(name)))
    }
}
