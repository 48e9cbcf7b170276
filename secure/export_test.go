package secure

// CHeap exposes the watchdog's memory measure to the tests.
var CHeap = cHeap
