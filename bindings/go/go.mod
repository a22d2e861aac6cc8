module github.com/x8-dev/x8/bindings/go

// runtime.AddCleanup (the safety net behind Close) arrived in Go 1.24.
go 1.24
