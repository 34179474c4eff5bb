module github.com/headlight/headlight

go 1.26
