// CBLAS declarations from Debian's libopenblas-dev (pkg-config openblas supplies the include path).
// IPTCore does not link the library: it loads it with dlopen after choosing the CPU kernels.
#include <cblas.h>
