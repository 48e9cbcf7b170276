package main

import (
	"fmt"
	"math"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// panel is one bar chart of the figure: a number per transport and
// variant, for one scenario and size.
type panel struct {
	title, unit string
	scenario    string
	size        int
	value       func(*Record) float64
}

var chartPanels = []panel{
	{"Throughput PUSH→PULL, 64 B (higher is better)", "msgs/s", "throughput", 64, func(r *Record) float64 { return r.MsgsPerSec }},
	{"Throughput PUSH→PULL, 1 KiB (higher is better)", "msgs/s", "throughput", 1024, func(r *Record) float64 { return r.MsgsPerSec }},
	{"Round trip REQ/REP, median (lower is better)", "µs", "rtt-req-rep", 64, func(r *Record) float64 { return r.RTTP50us }},
	{"Round trip DEALER/ROUTER, median (lower is better)", "µs", "rtt-dealer-router", 64, func(r *Record) float64 { return r.RTTP50us }},
}

// chart draws the figure to path as a PNG. Bars are on a log scale: the
// variants span four orders of magnitude.
func (rep *report) chart(path string) error {
	groups := append(append([]string(nil), transports...), "chan")
	img := vgimg.New(16*vg.Inch, 10*vg.Inch)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 2, PadX: vg.Inch / 4, PadY: vg.Inch / 4, PadTop: vg.Inch / 8, PadBottom: vg.Inch / 8, PadLeft: vg.Inch / 8, PadRight: vg.Inch / 8}
	for i, pn := range chartPanels {
		p, err := rep.panelPlot(pn, groups)
		if err != nil {
			return err
		}
		p.Draw(tiles.At(dc, i%2, i/2))
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (rep *report) panelPlot(pn panel, groups []string) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = pn.title
	p.Y.Label.Text = pn.unit + " (log scale)"
	p.Legend.Top = true
	p.Legend.Left = pn.scenario != "throughput"
	p.Legend.Padding = vg.Points(1)
	var names []string
	for _, v := range rep.Variants {
		names = append(names, v.Name)
	}
	w := vg.Points(9)
	maxLog := 1.0
	for j, name := range names {
		vals := make(plotter.Values, len(groups))
		any := false
		for g, t := range groups {
			for k := range rep.Records {
				r := &rep.Records[k]
				if r.Variant == name && r.Scenario == pn.scenario && r.Size == pn.size && r.Transport == t {
					if x := pn.value(r); x > 0 {
						vals[g] = math.Max(0, math.Log10(x))
						maxLog = math.Max(maxLog, vals[g])
						any = true
					}
				}
			}
		}
		if !any {
			continue
		}
		bars, err := plotter.NewBarChart(vals, w)
		if err != nil {
			return nil, err
		}
		bars.LineStyle.Width = 0
		bars.Color = plotutil.Color(j)
		bars.Offset = vg.Length(float64(j)-float64(len(names)-1)/2) * w
		p.Add(bars)
		p.Legend.Add(name, bars)
	}
	p.NominalX(groups...)
	p.Y.Min = 0
	p.Y.Max = math.Ceil(maxLog) + 0.8 // room for the legend
	var ticks []plot.Tick
	for k := 0; k <= int(math.Ceil(maxLog)); k++ {
		ticks = append(ticks, plot.Tick{Value: float64(k), Label: siLabel(math.Pow(10, float64(k)))})
	}
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	p.Add(plotter.NewGrid())
	return p, nil
}

func siLabel(x float64) string {
	switch {
	case x >= 1e6:
		return fmt.Sprintf("%gM", x/1e6)
	case x >= 1e3:
		return fmt.Sprintf("%gk", x/1e3)
	}
	return fmt.Sprintf("%g", x)
}
