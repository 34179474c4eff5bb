package main

// genExp512Set writes the AVX-512 exps and column softmax kernels (set
// exp512).
func genExp512Set() {}
