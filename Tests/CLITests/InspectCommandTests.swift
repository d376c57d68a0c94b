import Foundation
import IPTCore
import IPTTestSupport
import IPTTraining
import Testing

/// `ipt-cli inspect` on files written by the test (no shared data needed).
@Suite("ipt-cli inspect")
struct InspectCommandTests {
    @Test func showsAnArtifactsMetadataAndTensors() throws {
        let root = try TemporaryDirectory()
        let path = root.url.appendingPathComponent("subspace.safetensors").path
        let identity = ModelIdentity(name: "tiny", fingerprint: "abc", parameterCount: 1234, hiddenSize: 16)
        try Artifact.write([("encoder.weight", Tensor.zeros([3, 64])), ("decoder.bias", Tensor.zeros([64]))],
                           metadata: ArtifactMetadata(kind: "prompt-subspace", procedure: "subspace-finding",
                                                      configuration: "{\"tasks\":[\"glue-sst2\"],\"dim\":3}",
                                                      baseModel: identity, step: 40, seed: 42), to: path)
        let result = try CLI.run(["inspect", path])
        Check.succeeds(result)
        let json = try Check.json(result)
        #expect(json["format"] as? String == "ipt-artifact")
        #expect(json["kind"] as? String == "prompt-subspace")
        #expect(json["procedure"] as? String == "subspace-finding")
        #expect((json["configuration"] as? [String: Any])?["tasks"] as? [String] == ["glue-sst2"])
        #expect((json["base_model"] as? [String: Any])?["fingerprint"] as? String == "abc")
        #expect(json["step"] as? Int == 40 && json["seed"] as? Int == 42)
        #expect(json["library_version"] as? String == IPTVersion.string)
        #expect(json["parameters"] as? Int == 3 * 64 + 64)
        let tensors = try #require(json["tensors"] as? [[String: Any]])
        #expect(tensors.map { $0["name"] as? String } == ["encoder.weight", "decoder.bias"])
        #expect(tensors.map { $0["shape"] as? [Int] } == [[3, 64], [64]])
        #expect(tensors.map { $0["parameters"] as? Int } == [192, 64])
    }

    @Test func showsACheckpointWithItsRun() throws {
        let root = try TemporaryDirectory()
        try root.write("run/config.json", "{\"procedure\": \"subspace-tuning\", \"tasks\": [\"a\"]}")
        let path = root.url.appendingPathComponent("run/checkpoint.safetensors").path
        try SafeTensors.write([("value.z", Tensor.zeros([5])), ("best.z", Tensor.zeros([5])), ("adam.m.z", Tensor.zeros([5]))],
                              metadata: ["format": "ipt-checkpoint", "loop_state": "{\"step\": 7}", "library_version": "0.1.0"],
                              to: path)
        let json = try Check.json(try CLI.run(["inspect", path]))
        #expect(json["kind"] as? String == "checkpoint" && json["step"] as? Int == 7)
        #expect(json["trained_parameters"] as? Int == 5 && json["parameters"] as? Int == 15)
        #expect(json["procedure"] as? String == "subspace-tuning")
    }

    @Test func showsAnyOtherSafetensorsFileWithItsDtypes() throws {
        let root = try TemporaryDirectory()
        // A hand-written file: an I64 tensor (which IPT cannot load as values, but describes) and metadata.
        let header = Array("{\"ids\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]},\"__metadata__\":{\"format\":\"pt\"}}".utf8)
        let bytes = withUnsafeBytes(of: UInt64(header.count).littleEndian, Array.init) + header + [UInt8](repeating: 0, count: 16)
        let path = try root.write("model.safetensors", bytes: bytes).path
        let json = try Check.json(try CLI.run(["inspect", path]))
        #expect(json["format"] as? String == "safetensors")
        #expect((json["metadata"] as? [String: Any])?["format"] as? String == "pt")
        #expect((json["tensors"] as? [[String: Any]])?.first?["dtype"] as? String == "I64")
        #expect(json["parameters"] as? Int == 2)
    }

    @Test func badFilesAreOneLineErrors() throws {
        let root = try TemporaryDirectory()
        let text = try root.write("notes.txt", "hello, this is not a safetensors file").path
        Check.fails(try CLI.run(["inspect", text]), status: 1, mentioning: "\(text): header length")
        let missing = root.url.appendingPathComponent("absent.safetensors").path
        Check.fails(try CLI.run(["inspect", missing]), status: 1, mentioning: missing)
        Check.fails(try CLI.run(["inspect", root.url.path]), status: 1, mentioning: "is a folder")
        Check.fails(try CLI.run(["inspect"]), status: 2, mentioning: "Missing expected argument")
    }
}
