package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Import reads a HAR or JSON Lines file, told apart by content (a JSON object whose first key
// is "log" is HAR), and returns the requests and attempts to record with Save. The requests
// get ingress "import" and no ids; redacted header values stay "REDACTED". Errors name the
// HAR entry or the line, and what is wrong, on one line.
func Import(r io.Reader) ([]Item, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("empty file: want HAR or JSON Lines")
	}
	if isHAR(data) {
		return importHAR(data)
	}
	if c := bytes.TrimLeft(data, " \t\r\n"); c[0] != '{' {
		return nil, fmt.Errorf("not HAR or JSON Lines: the file does not start with a JSON object")
	}
	return importJSONL(data)
}

// isHAR says whether data is a JSON object whose first key is "log", or an object that spans
// lines (JSON Lines objects never do) holding a "log" key.
func isHAR(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return false
	}
	if t, err := dec.Token(); err == nil && t == "log" {
		return true
	}
	first, _, _ := bytes.Cut(bytes.TrimLeft(data, " \t\r\n"), []byte("\n"))
	if json.Valid(first) {
		return false // one object on the first line: JSON Lines
	}
	var probe struct {
		Log json.RawMessage `json:"log"`
	}
	return json.Unmarshal(data, &probe) == nil && probe.Log != nil
}
