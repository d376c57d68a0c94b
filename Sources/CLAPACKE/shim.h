// LAPACKE declarations from Debian's liblapacke-dev. Loaded with dlopen, after OpenBLAS (see BLAS.swift).
#include <lapacke.h>
