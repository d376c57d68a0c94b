import CLAPACKE
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Why a LAPACK routine could not run or did not succeed. The description is one line.
public enum LAPACKError: Error, CustomStringConvertible, Equatable {
    /// liblapacke could not be loaded, lacks the routine, or would run on unverified BLAS kernels.
    case libraryUnavailable(String)
    /// The input matrix has a NaN or infinite element.
    case nonFiniteInput(routine: String)
    /// The routine returned a nonzero `info` (for the SVD: the iteration did not converge).
    case failed(routine: String, info: Int)

    public var description: String {
        switch self {
        case .libraryUnavailable(let reason): return "LAPACK unavailable: \(reason)"
        case .nonFiniteInput(let routine): return "\(routine): the matrix has NaN or infinite elements"
        case .failed(let routine, let info): return "\(routine) failed with info = \(info)"
        }
    }
}

/// Dense linear algebra from LAPACKE, loaded with `dlopen` on first use.
///
/// liblapacke resolves its BLAS through the dynamic loader; loading it after ``BLAS`` (which picks
/// OpenBLAS's CPU kernels before loading it) makes it share that OpenBLAS instead of loading one
/// with the misdetected kernels. Nothing is linked at build time (see Package.swift).
public enum LAPACK {
    /// `LAPACKE_sgesdd` with Debian's 32-bit `lapack_int` (a C macro, so not imported).
    typealias Sgesdd = @convention(c) (
        Int32, CChar, Int32, Int32, UnsafeMutablePointer<Float>?, Int32,
        UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?, Int32,
        UnsafeMutablePointer<Float>?, Int32) -> Int32

    private struct Routines: @unchecked Sendable {
        let sgesdd: Result<Sgesdd, LAPACKError>
    }

    private static let routines = Routines(sgesdd: load(library: "liblapacke.so.3"))

    /// Why `library` cannot serve the SVD (not found, symbol missing, BLAS unverified), or `nil`
    /// when it can.
    public static func problem(loading library: String) -> LAPACKError? {
        if case .failure(let error) = load(library: library) { return error }
        return nil
    }

    /// Loads `LAPACKE_sgesdd` from `library`, after BLAS.
    static func load(library: String) -> Result<Sgesdd, LAPACKError> {
        let blas = BLAS.info  // loads OpenBLAS with the chosen kernels first
        if BLAS.isOpenBLASLoaded && !blas.verified {
            return .failure(.libraryUnavailable(
                "OpenBLAS failed its load-time check (error \(blas.verificationError)); LAPACK would run on its kernels"))
        }
        guard let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "not found"
            return .failure(.libraryUnavailable("cannot load \(library) (install liblapacke-dev): \(reason)"))
        }
        guard let symbol = dlsym(handle, "LAPACKE_sgesdd") else {
            return .failure(.libraryUnavailable("\(library) has no LAPACKE_sgesdd"))
        }
        return .success(unsafeBitCast(symbol, to: Sgesdd.self))
    }

    /// The thin singular value decomposition `A = U diag(S) V^T` (LAPACK's divide-and-conquer
    /// `sgesdd`).
    ///
    /// Singular values come in decreasing order. Each singular pair is signed so that the
    /// largest-magnitude entry of its column of U is positive (scikit-learn's `svd_flip`), so the
    /// result does not depend on the LAPACK build.
    ///
    /// - Parameter a: an `(m, n)` matrix.
    /// - Returns: `u` `(m, k)` with orthonormal columns, `s` `(k)`, `vt` `(k, n)` with orthonormal
    ///   rows, where `k = min(m, n)`.
    /// - Throws: ``LAPACKError`` when liblapacke is missing, the matrix is not finite, or the
    ///   iteration does not converge.
    public static func singularValueDecomposition(_ a: Tensor) throws -> (u: Tensor, s: Tensor, vt: Tensor) {
        precondition(a.rank == 2, "singularValueDecomposition needs a matrix, got shape \(a.shape)")
        let (m, n) = (a.shape[0], a.shape[1])
        let k = Swift.min(m, n)
        precondition(m < Int(Int32.max) && n < Int(Int32.max) && m * n < Int(Int32.max), "matrix \(a.shape) too large for LAPACK")
        let sgesdd = try routines.sgesdd.get()
        guard a.isFinite else { throw LAPACKError.nonFiniteInput(routine: "sgesdd") }
        var u = Tensor.zeros([m, k]), s = Tensor.zeros([k]), vt = Tensor.zeros([k, n])
        if k == 0 { return (u, s, vt) }
        var work = a.detached()  // sgesdd overwrites its input
        let info = work.withUnsafeMutableBufferPointer { pa in
            u.withUnsafeMutableBufferPointer { pu in
                s.withUnsafeMutableBufferPointer { ps in
                    vt.withUnsafeMutableBufferPointer { pv in
                        sgesdd(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "S")), Int32(m), Int32(n),
                               pa.baseAddress, Int32(n), ps.baseAddress, pu.baseAddress, Int32(k),
                               pv.baseAddress, Int32(n))
                    }
                }
            }
        }
        guard info == 0 else { throw LAPACKError.failed(routine: "sgesdd", info: Int(info)) }
        u.withUnsafeMutableBufferPointer { pu in
            vt.withUnsafeMutableBufferPointer { pv in
                for j in 0..<k {
                    var largest: Float = 0
                    for i in 0..<m where Swift.abs(pu[i * k + j]) > Swift.abs(largest) { largest = pu[i * k + j] }
                    guard largest < 0 else { continue }
                    for i in 0..<m { pu[i * k + j] = -pu[i * k + j] }
                    for i in 0..<n { pv[j * n + i] = -pv[j * n + i] }
                }
            }
        }
        return (u, s, vt)
    }
}
