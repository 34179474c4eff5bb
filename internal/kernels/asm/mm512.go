package main

// genMM512Set writes the AVX-512 register tiles (set mm512).
func genMM512Set() {}
