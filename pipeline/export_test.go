package pipeline

// SetSendHook makes c's Send call f between the head's accepting a value
// and Sent counting it. Call it before the first Send.
func SetSendHook[In, Out any](c *Chain[In, Out], f func()) { c.testHookSent = f }
