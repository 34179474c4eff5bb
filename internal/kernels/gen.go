package kernels

// The amd64 kernels are generated with avo by the program in ./asm (its own
// module, so avo is no dependency of Headlight). The outputs are committed.

//go:generate sh -c "cd asm && go run . -set vec -out ../zvec_amd64.s -stubs ../zvec_stubs_amd64.go -pkg kernels"
//go:generate sh -c "cd asm && go run . -set exp -out ../zexp_amd64.s -stubs ../zexp_stubs_amd64.go -pkg kernels"
//go:generate sh -c "cd asm && go run . -set gemm1 -out ../zgemm1_amd64.s -stubs ../zgemm1_stubs_amd64.go -pkg kernels"
//go:generate sh -c "cd asm && go run . -set gemm2 -out ../zgemm2_amd64.s -stubs ../zgemm2_stubs_amd64.go -pkg kernels"
//go:generate sh -c "cd asm && go run . -set gemm3 -out ../zgemm3_amd64.s -stubs ../zgemm3_stubs_amd64.go -pkg kernels"
//go:generate sh -c "cd asm && go run . -set gemm4 -out ../zgemm4_amd64.s -stubs ../zgemm4_stubs_amd64.go -pkg kernels"
//go:generate sh -c "cd asm && go run . -set gemm43 -out ../zgemm43_amd64.s -stubs ../zgemm43_stubs_amd64.go -pkg kernels"
//go:generate sh -c "cd asm && go run . -set mm -out ../zmm_amd64.s -stubs ../zmm_stubs_amd64.go -pkg kernels"
//go:generate sh -c "cd asm && go run . -set mmr -out ../zmmr_amd64.s -stubs ../zmmr_stubs_amd64.go -pkg kernels"
//go:generate sh -c "cd asm && go run . -set panels -out ../zpanels_amd64.s -stubs ../zpanels_stubs_amd64.go -pkg kernels"
//go:generate sh -c "cd asm && go run . -set hpanels -out ../zhpanels_amd64.s -stubs ../zhpanels_stubs_amd64.go -pkg kernels"
//go:generate sh -c "cd asm && go run . -set rows -out ../zrows_amd64.s -stubs ../zrows_stubs_amd64.go -pkg kernels"
//go:generate sh -c "cd asm && go run . -set half -out ../zhalf_amd64.s -stubs ../zhalf_stubs_amd64.go -pkg kernels"
//go:generate sh -c "cd asm && go run . -set exp512 -out ../zexp512_amd64.s -stubs ../zexp512_stubs_amd64.go -pkg kernels"
//go:generate sh -c "cd asm && go run . -set mm512 -out ../zmm512_amd64.s -stubs ../zmm512_stubs_amd64.go -pkg kernels"
//go:generate sh -c "cd asm && go run . -set bf16dot512 -out ../zbf16dot512_amd64.s -stubs ../zbf16dot512_stubs_amd64.go -pkg kernels"
