// Generator of testdata/tokenizer/minilm_expected.json. A module of its own so
// that the project does not depend on the reference tokenizer.
module github.com/headlight/headlight/testdata/gen/tokenizer_minilm

go 1.25.1

// The same replacement as github.com/clems4ever/all-minilm-l6-v2-go's own
// go.mod (replace directives of dependencies are not inherited): without it
// the tokenizer would not be the one that module ships.
replace github.com/sugarme/tokenizer => github.com/clems4ever/tokenizer v0.0.0-20250926133620-9ddc80533c43

require (
	github.com/clems4ever/all-minilm-l6-v2-go v0.0.9
	golang.org/x/text v0.25.0
)

require (
	github.com/emirpasic/gods v1.18.1 // indirect
	github.com/mitchellh/colorstring v0.0.0-20190213212951-d06e56a500db // indirect
	github.com/patrickmn/go-cache v2.1.0+incompatible // indirect
	github.com/rivo/uniseg v0.4.7 // indirect
	github.com/schollz/progressbar/v2 v2.15.0 // indirect
	github.com/sugarme/regexpset v0.0.0-20200920021344-4d4ec8eaf93c // indirect
	github.com/sugarme/tokenizer v0.3.0 // indirect
	github.com/yalue/onnxruntime_go v1.21.0 // indirect
	gopkg.in/yaml.v3 v3.0.1 // indirect
)
