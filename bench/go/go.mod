module asioctx/bench/go

go 1.19

require github.com/golang-jwt/jwt/v4 v4.4.3

// Debian's golang-github-golang-jwt-jwt-dev: no module download is needed.
replace github.com/golang-jwt/jwt/v4 => /usr/share/gocode/src/github.com/golang-jwt/jwt
