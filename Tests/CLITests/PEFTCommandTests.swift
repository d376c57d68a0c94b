import Foundation
import IPTCore
import IPTTestSupport
import Testing

/// `ipt-cli import-peft` / `export-peft` against an adapter and a model written by Python PEFT
/// (scripts/check_peft_roundtrip.py; no shared data needed).
@Suite("ipt-cli export-peft and import-peft")
struct PEFTCommandTests {
    var model: String { Fixtures.url("peft/tiny-bart").path }
    var adapter: String { Fixtures.url("peft/adapter").path }

    func expected() throws -> [String: Any] { try Check.jsonFile(Fixtures.url("peft/expected.json")) }

    @Test func importedPromptScoresAsInPEFT() throws {
        let root = try TemporaryDirectory()
        let prompt = root.url.appendingPathComponent("prompt.safetensors").path
        let result = try CLI.run(["import-peft", "--peft", adapter, "--output", prompt, "--model", model])
        Check.succeeds(result)
        #expect(result.stdout == "import-peft num_virtual_tokens=4 token_dim=16 output=\(prompt)\n")
        #expect(result.stderr.contains("num_transformer_submodules is 2; kept the 4 encoder rows, left out the 4 decoder rows"))
        let values = try #require(SafeTensors.read(prompt).tensors["prompt"])
        let rows = try #require(try expected()["encoder_prompt"] as? [[Double]])
        #expect(values.shape == [4, 16])
        #expect(values.scalars == rows.flatMap { $0.map(Float.init) }, "the encoder rows, bit for bit")

        // The prompt means what it means in PEFT: the same mean target NLL on the same model.
        let evaluation = try CLI.run(["evaluate", "--model", model, "--file", Fixtures.url("peft/examples.tsv").path,
                                      "--prompt", prompt, "--num-beams", "1", "--max-length", "4"])
        Check.succeeds(evaluation)
        let nll = try #require(try Check.json(evaluation)["nll"] as? Double)
        let reference = try #require(try expected()["mean_nll"] as? Double)
        #expect(abs(nll - reference) < 2e-5, "IPT \(nll), PEFT \(reference)")
        let withoutPrompt = try #require(try expected()["nll_without_prompt"] as? [Double])
        #expect(abs(nll - withoutPrompt.reduce(0, +) / 3) > 1e-3, "the prompt matters")

        // The artifact records the model and works with it as a prompt file.
        let inspection = try Check.json(try CLI.run(["inspect", prompt]))
        #expect(inspection["kind"] as? String == "prompt" && inspection["procedure"] as? String == "peft-import")
        #expect((inspection["base_model"] as? [String: Any])?["name"] as? String == "tiny-bart")
    }

    @Test func exportWritesPEFTsFormatAndRoundTrips() throws {
        let root = try TemporaryDirectory()
        let prompt = root.url.appendingPathComponent("prompt.safetensors").path
        Check.succeeds(try CLI.run(["import-peft", "--peft", adapter, "--output", prompt, "--model", model]))
        let exported = root.url.appendingPathComponent("exported")
        let result = try CLI.run(["export-peft", "--prompt", prompt, "--model", model, "--output", exported.path,
                                  "--base-model-name", "local/tiny-bart"])
        Check.succeeds(result)
        let configuration = try Check.jsonFile(exported.appendingPathComponent("adapter_config.json"))
        #expect(configuration["peft_type"] as? String == "PROMPT_TUNING")
        #expect(configuration["task_type"] as? String == "SEQ_2_SEQ_LM")
        #expect(configuration["num_transformer_submodules"] as? Int == 1)
        #expect(configuration["num_virtual_tokens"] as? Int == 4 && configuration["token_dim"] as? Int == 16)
        #expect(configuration["base_model_name_or_path"] as? String == "local/tiny-bart")
        // The keys PEFT itself wrote for the same kind of adapter (its version key aside).
        let peftKeys = Set(try Check.jsonFile(Fixtures.url("peft/adapter/adapter_config.json")).keys).subtracting(["peft_version"])
        #expect(Set(configuration.keys) == peftKeys)
        let weights = try SafeTensors.read(exported.appendingPathComponent("adapter_model.safetensors").path)
        #expect(weights.names == ["prompt_embeddings"] && weights.metadata == ["format": "pt"])
        let original = try #require(SafeTensors.read(prompt).tensors["prompt"])
        #expect(weights.tensors["prompt_embeddings"]?.scalars == original.scalars)

        // Back again: nothing dropped, nothing changed.
        let again = root.url.appendingPathComponent("again.safetensors").path
        let back = try CLI.run(["import-peft", "--peft", exported.path, "--output", again])
        Check.succeeds(back)
        #expect(back.stderr.isEmpty)
        #expect(try SafeTensors.read(again).tensors["prompt"]?.scalars == original.scalars)

        // Existing outputs are not replaced silently.
        Check.fails(try CLI.run(["export-peft", "--prompt", prompt, "--model", model, "--output", exported.path]),
                    status: 1, mentioning: "holds a PEFT adapter (adapter_config.json); pass --overwrite")
        Check.succeeds(try CLI.run(["export-peft", "--prompt", prompt, "--model", model, "--output", exported.path, "--overwrite"]))
        Check.fails(try CLI.run(["import-peft", "--peft", exported.path, "--output", again]), status: 1, mentioning: "exists; pass --overwrite")
    }

    @Test func badAdaptersAndPromptsAreOneLineErrors() throws {
        let root = try TemporaryDirectory()
        let output = root.url.appendingPathComponent("p.safetensors").path
        func adapterFolder(_ name: String, configuration: String, weights: [(String, Tensor)]?) throws -> String {
            try root.write("\(name)/adapter_config.json", configuration)
            if let weights {
                try SafeTensors.write(weights, metadata: ["format": "pt"], to: root.url.appendingPathComponent("\(name)/adapter_model.safetensors").path)
            }
            return root.url.appendingPathComponent(name).path
        }
        let good = "\"peft_type\": \"PROMPT_TUNING\", \"task_type\": \"SEQ_2_SEQ_LM\", \"token_dim\": 16"
        let cases: [(String, [(String, Tensor)]?, String)] = [
            ("{\"peft_type\": \"LORA\", \"task_type\": \"SEQ_2_SEQ_LM\"}", nil, "peft_type is LORA"),
            ("{\"peft_type\": \"PROMPT_TUNING\", \"task_type\": \"CAUSAL_LM\"}", nil, "task_type is CAUSAL_LM"),
            ("{\(good), \"num_virtual_tokens\": 2.5}", nil, "num_virtual_tokens must be a positive integer"),
            ("{\(good), \"num_virtual_tokens\": 4, \"num_transformer_submodules\": 3}", nil, "must be 1 or 2"),
            ("{\(good), \"num_virtual_tokens\": 4, \"num_transformer_submodules\": 1}", nil, "adapter_model.safetensors: missing"),
            ("{\(good), \"num_virtual_tokens\": 4, \"num_transformer_submodules\": 1}", [("prompt_embeddings", Tensor.zeros([3, 16]))],
             "prompt_embeddings has shape [3, 16], but adapter_config.json says [4, 16]"),
            ("{\(good), \"num_virtual_tokens\": 4, \"num_transformer_submodules\": 1}", [("other", Tensor.zeros([4, 16]))],
             "no prompt_embeddings tensor"),
            ("[]", nil, "adapter_config.json: not a JSON object"),
        ]
        for (index, (configuration, weights, message)) in cases.enumerated() {
            let folder = try adapterFolder("case\(index)", configuration: configuration, weights: weights)
            Check.fails(try CLI.run(["import-peft", "--peft", folder, "--output", output]), status: 1, mentioning: message)
            #expect(!FileManager.default.fileExists(atPath: output))
        }
        Check.fails(try CLI.run(["import-peft", "--peft", root.url.path, "--output", output]), status: 1,
                    mentioning: "adapter_config.json: missing; --peft must be a PEFT adapter folder")
        // A prompt of another width than the model's.
        let wide = try adapterFolder("wide", configuration: "{\"peft_type\": \"PROMPT_TUNING\", \"task_type\": \"SEQ_2_SEQ_LM\", \"token_dim\": 8, \"num_virtual_tokens\": 2, \"num_transformer_submodules\": 1}",
                                     weights: [("prompt_embeddings", Tensor.zeros([2, 8]))])
        Check.fails(try CLI.run(["import-peft", "--peft", wide, "--output", output, "--model", model]), status: 1,
                    mentioning: "prompt vectors of width 8, but model tiny-bart has hidden size 16")
        // export-peft wants an IPT prompt made with this model.
        let stranger = root.url.appendingPathComponent("stranger.safetensors").path
        try SafeTensors.write([("prompt", Tensor.zeros([2, 16]))], to: stranger)
        Check.fails(try CLI.run(["export-peft", "--prompt", stranger, "--model", model, "--output", root.url.appendingPathComponent("x").path]),
                    status: 1, mentioning: "not an IPT artifact")
        Check.fails(try CLI.run(["export-peft", "--prompt", stranger, "--output", "x"]), status: 2, mentioning: "--model")
    }
}
