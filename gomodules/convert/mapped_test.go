package convert

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestExtentsOfTakesOnlyAWholeDiskOfZerosAndDataInTheFile(t *testing.T) {
	at := func(v int64) *int64 { return &v }
	cases := []struct {
		name    string
		entries []mapEntry
		ok      bool
	}{
		{"data then zeros", []mapEntry{{Start: 0, Length: 4096, Data: true, Offset: at(65536)}, {Start: 4096, Length: 4096, Zero: true}}, true},
		{"a zero cluster keeping its host cluster", []mapEntry{{Start: 0, Length: 8192, Data: true, Zero: true, Offset: at(65536)}}, true},
		{"compressed data: no offset", []mapEntry{{Start: 0, Length: 4096, Data: true}, {Start: 4096, Length: 4096, Zero: true}}, false},
		{"unallocated, not zero: read from a backing file", []mapEntry{{Start: 0, Length: 8192}}, false},
		{"from a backing file", []mapEntry{{Start: 0, Length: 8192, Depth: 1, Data: true, Offset: at(0)}}, false},
		{"a gap", []mapEntry{{Start: 0, Length: 4096, Zero: true}, {Start: 6144, Length: 2048, Zero: true}}, false},
		{"short of the virtual size", []mapEntry{{Start: 0, Length: 4096, Zero: true}}, false},
		{"an empty extent", []mapEntry{{Start: 0, Length: 0, Zero: true}, {Start: 0, Length: 8192, Zero: true}}, false},
		{"a negative offset", []mapEntry{{Start: 0, Length: 8192, Data: true, Offset: at(-1)}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			extents, ok := extentsOf(c.entries, 8192)
			assert.Equal(t, c.ok, ok)
			if ok {
				assert.Len(t, extents, len(c.entries))
				assert.Equal(t, c.entries[0].Zero, extents[0].zero, "a run that reads as zeros is never read from the file")
			}
		})
	}
}
