// The Go side of bench/http_bench.sh: net/http with the chain of the reference Go
// net/http figure (request id, JWT, timeout, JSON body), built from Debian's Go 1.19 and golang-jwt packages so that
// it runs in the same run as the asioctx servers. Request id (read if 1 to 128 safe
// characters, else 128 random bits; echoed), Bearer JWT HS256 through golang-jwt (exp
// required), a per-request timeout context, and a handler writing the same small JSON
// body as bench/http_server.cpp.
//
// Usage: go_chain_server PORT
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

var secret = []byte("asioctx-bench-secret-0123456789abcdef")

type contextKey int

const (
	requestIDKey contextKey = iota
	subjectKey
)

func validID(id string) bool {
	if len(id) < 1 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("._:-", c) >= 0) {
			return false
		}
	}
	return true
}

func requestIDs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !validID(id) {
			var bits [16]byte
			if _, err := rand.Read(bits[:]); err != nil {
				http.Error(w, "internal error", http.StatusInternalServerError)
				return
			}
			id = hex.EncodeToString(bits[:])
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

func bearerAuth(next http.Handler) http.Handler {
	keyFunc := func(t *jwt.Token) (interface{}, error) {
		if t.Method != jwt.SigningMethodHS256 {
			return nil, errors.New("unexpected algorithm")
		}
		return secret, nil
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		if len(auth) < 7 || !strings.EqualFold(auth[:7], "Bearer ") {
			w.Header().Set("WWW-Authenticate", "Bearer")
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		claims := &jwt.RegisteredClaims{}
		token, err := jwt.ParseWithClaims(auth[7:], claims, keyFunc)
		if err != nil || !token.Valid || claims.ExpiresAt == nil {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), subjectKey, claims.Subject)))
	})
}

func timeout(limit time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), limit)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func hello(w http.ResponseWriter, r *http.Request) {
	id, _ := r.Context().Value(requestIDKey).(string)
	sub, _ := r.Context().Value(subjectKey).(string)
	subject, _ := json.Marshal(sub)
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte(`{"request_id":"` + id + `","sub":` + string(subject) + "}\n"))
}

func main() {
	if len(os.Args) < 2 {
		os.Exit(2)
	}
	handler := requestIDs(bearerAuth(timeout(5*time.Second, http.HandlerFunc(hello))))
	server := &http.Server{Addr: "127.0.0.1:" + os.Args[1], Handler: handler}
	if err := server.ListenAndServe(); err != nil {
		os.Exit(1)
	}
}
