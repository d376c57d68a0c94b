import IPTCore
import Testing

/// The thin SVD against NumPy's (Fixtures/ops.safetensors, `svd_*`), up to the sign of each pair.
@Suite("LAPACK singular value decomposition")
struct LAPACKTests {
    static func fixture(_ key: String) throws -> Tensor { try #require(Fixtures.ops?.tensors[key], "missing \(key)") }

    /// `max |U diag(S) V^T - A| / max |A|`.
    static func reconstructionError(_ u: Tensor, _ s: Tensor, _ vt: Tensor, _ a: Tensor) -> Float {
        let k = s.count
        let scaled = u * s.reshaped([1, k])
        let product = Tensor.matmul(scaled, vt)
        return product.maxAbsDifference(a) / a.scalars.map(abs).max()!
    }

    /// Largest deviation of `m^T m` (columns: `transposed` false) from the identity.
    static func orthonormalityError(_ m: Tensor, rows: Bool) -> Float {
        let gram = rows ? Tensor.matmul(m, m, transposeB: true) : Tensor.matmul(m, m, transposeA: true)
        let k = gram.shape[0]
        var identity = Tensor.zeros([k, k])
        for i in 0..<k { identity[i, i] = 1 }
        return gram.maxAbsDifference(identity)
    }

    @Test(arguments: ["svd_tall", "svd_wide"])
    func matchesNumPy(_ name: String) throws {
        let a = try Self.fixture("\(name).a")
        let (u, s, vt) = try LAPACK.singularValueDecomposition(a)
        let (eu, es, evt) = (try Self.fixture("\(name).u"), try Self.fixture("\(name).s"), try Self.fixture("\(name).vt"))
        #expect(u.shape == eu.shape && s.shape == es.shape && vt.shape == evt.shape)
        #expect(s.maxAbsDifference(es) <= 1e-5 * es.scalars[0])
        let (m, k, n) = (u.shape[0], s.count, vt.shape[1])
        var worst: Float = 0
        for j in 0..<k {
            // Flip the reference pair to the sign of ours, then compare.
            let sign: Float = (0..<m).map { u[$0, j] * eu[$0, j] }.reduce(0, +) < 0 ? -1 : 1
            for i in 0..<m { worst = max(worst, abs(u[i, j] - sign * eu[i, j])) }
            for i in 0..<n { worst = max(worst, abs(vt[j, i] - sign * evt[j, i])) }
            // Our sign convention: the largest-magnitude entry of each column of U is positive.
            let largest = (0..<m).map { u[$0, j] }.max { abs($0) < abs($1) }!
            #expect(largest > 0)
        }
        #expect(worst < 1e-4, "singular vectors differ by \(worst)")
        #expect(Self.reconstructionError(u, s, vt, a) < 1e-5)
        #expect(Self.orthonormalityError(u, rows: false) < 1e-5)
        #expect(Self.orthonormalityError(vt, rows: true) < 1e-5)
        print("SVD \(name): singular values \(s.maxAbsDifference(es)), vectors \(worst)")
    }

    @Test func rankDeficientMatrix() throws {
        let a = try Self.fixture("svd_rank2.a")
        let (u, s, vt) = try LAPACK.singularValueDecomposition(a)
        let expected = try Self.fixture("svd_rank2.s")
        #expect(s.maxAbsDifference(expected) <= 1e-5 * expected.scalars[0])
        #expect(s.scalars[2...].allSatisfy { $0 < 1e-5 * s.scalars[0] })
        #expect(Self.reconstructionError(u, s, vt, a) < 1e-5)
    }

    @Test func edgeCasesAndErrors() throws {
        let empty = try LAPACK.singularValueDecomposition(Tensor.zeros([0, 3]))
        #expect(empty.u.shape == [0, 0] && empty.s.shape == [0] && empty.vt.shape == [0, 3])
        var bad = Tensor.ones([3, 2])
        bad[1, 1] = .nan
        #expect(throws: LAPACKError.nonFiniteInput(routine: "sgesdd")) { try LAPACK.singularValueDecomposition(bad) }
        // A missing library is a typed error, not a crash.
        guard let error = LAPACK.problem(loading: "libipt-no-such-lapacke.so.3") else {
            Issue.record("loading a missing library succeeded")
            return
        }
        guard case .libraryUnavailable(let reason) = error else {
            Issue.record("unexpected \(error)")
            return
        }
        #expect(reason.contains("libipt-no-such-lapacke.so.3"))
        #expect(!error.description.contains("\n"))
    }
}
