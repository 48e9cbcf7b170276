package pipeline

// SetSubmitHook makes p's Submit call f between the ventilator's accepting
// a task and Submitted counting it, so that a test can hold a Submit there
// while the pool ends. Call it before the first Submit.
func SetSubmitHook[Task, Result any](p *Pool[Task, Result], f func()) { p.testHookSent = f }

// SetSendHook makes c's Send call f between the head's accepting a value
// and Sent counting it. Call it before the first Send.
func SetSendHook[In, Out any](c *Chain[In, Out], f func()) { c.testHookSent = f }
