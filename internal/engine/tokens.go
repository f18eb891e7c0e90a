package engine

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash"
	"sync"
)

// signer mints and verifies checkpoint tokens and callback ids. Both are
// base64 (standard alphabet, matching AWS's patterns) of a payload followed
// by a truncated HMAC-SHA256, so they cannot be guessed or forged and the
// server can route them without a lookup table.
type signer struct {
	// macs recycles keyed HMAC states: hmac.New hashes the key into
	// fresh inner and outer states for every token, and every checkpoint
	// both verifies and mints one.
	macs *sync.Pool
}

// newSigner returns a signer keyed with key.
func newSigner(key []byte) signer {
	return signer{macs: &sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}}
}

// sum returns the truncated MAC of data, appended to dst.
func (s signer) sum(dst, data []byte) []byte {
	m := s.macs.Get().(hash.Hash)
	m.Reset()
	m.Write(data)
	dst = m.Sum(dst)
	s.macs.Put(m)
	return dst[:len(dst)-sha256.Size+macLen]
}

const macLen = 16

var errBadToken = errors.New("malformed or forged token")

func (s signer) seal(kind byte, payload []byte) string {
	buf := make([]byte, 0, 1+len(payload)+sha256.Size)
	buf = append(buf, kind)
	buf = append(buf, payload...)
	return base64.StdEncoding.EncodeToString(s.sum(buf, buf))
}

func (s signer) open(kind byte, token string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(token)
	if err != nil || len(raw) < 1+macLen || raw[0] != kind {
		return nil, errBadToken
	}
	body, mac := raw[:len(raw)-macLen], raw[len(raw)-macLen:]
	var sum [sha256.Size]byte
	if !hmac.Equal(mac, s.sum(sum[:0], body)) {
		return nil, errBadToken
	}
	return body[1:], nil
}

const (
	kindCheckpoint byte = 'C'
	kindCallback   byte = 'B'
)

// checkpointToken encodes (execution id, token sequence).
func (s signer) checkpointToken(execID string, seq int64) string {
	p := binary.AppendUvarint(nil, uint64(seq))
	p = append(p, execID...)
	return s.seal(kindCheckpoint, p)
}

func (s signer) parseCheckpointToken(tok string) (execID string, seq int64, err error) {
	p, err := s.open(kindCheckpoint, tok)
	if err != nil {
		return "", 0, err
	}
	v, n := binary.Uvarint(p)
	if n <= 0 {
		return "", 0, errBadToken
	}
	return string(p[n:]), int64(v), nil
}

// callbackID encodes (execution id, operation id) plus a nonce that makes ids
// of different attempts differ.
func (s signer) callbackID(execID, opID string, nonce uint64) string {
	p := binary.AppendUvarint(nil, nonce)
	p = binary.AppendUvarint(p, uint64(len(execID)))
	p = append(p, execID...)
	p = append(p, opID...)
	return s.seal(kindCallback, p)
}

func (s signer) parseCallbackID(id string) (execID, opID string, err error) {
	p, err := s.open(kindCallback, id)
	if err != nil {
		return "", "", err
	}
	_, n := binary.Uvarint(p)
	if n <= 0 {
		return "", "", errBadToken
	}
	p = p[n:]
	l, n := binary.Uvarint(p)
	if n <= 0 || uint64(len(p)-n) < l {
		return "", "", errBadToken
	}
	p = p[n:]
	return string(p[:l]), string(p[l:]), nil
}
