// Package secure makes a tcp endpoint of a zchan socket safe to expose.
package secure
