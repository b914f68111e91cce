module github.com/tradia/keyauth

go 1.19
