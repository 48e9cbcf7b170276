package main

import (
	"fmt"
	"image/color"
	"math"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
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

// palette gives every variant its own colour (plotutil's repeat after
// seven).
var palette = []color.Color{
	color.RGBA{0xd6, 0x27, 0x28, 0xff}, // zmqchan: red
	color.RGBA{0x1f, 0x77, 0xb4, 0xff}, // pebbe: blue
	color.RGBA{0xff, 0x98, 0x96, 0xff},
	color.RGBA{0xae, 0xc7, 0xe8, 0xff},
	color.RGBA{0x94, 0x67, 0xbd, 0xff},
	color.RGBA{0x8c, 0x56, 0x4b, 0xff},
	color.RGBA{0x2c, 0xa0, 0x2c, 0xff},
	color.RGBA{0xff, 0x7f, 0x0e, 0xff},
	color.RGBA{0x7f, 0x7f, 0x7f, 0xff},
	color.RGBA{0x17, 0xbe, 0xcf, 0xff},
	color.RGBA{0xbc, 0xbd, 0x22, 0xff},
}

func variantColor(i int) color.Color { return palette[i%len(palette)] }

// chart draws the figure to path as a PNG: four panels and one legend.
// Bars are on a log scale: the variants span four orders of magnitude.
// Plain channels are drawn in the inproc group, as in the tables.
func (rep *report) chart(path string) error {
	img := vgimg.New(16*vg.Inch, 10*vg.Inch)
	dc := draw.New(img)
	legendW := 1.7 * vg.Inch
	tiles := draw.Tiles{Rows: 2, Cols: 2, PadX: vg.Inch / 4, PadY: vg.Inch / 4, PadTop: vg.Inch / 8, PadBottom: vg.Inch / 8, PadLeft: vg.Inch / 8, PadRight: vg.Inch / 8}
	panels := draw.Crop(dc, 0, -legendW, 0, 0)
	legend := plot.NewLegend()
	legend.Top = true
	legend.Left = true
	legend.YOffs = -vg.Inch / 2
	for i, pn := range chartPanels {
		p, err := rep.panelPlot(pn, &legend, i == 0)
		if err != nil {
			return err
		}
		p.Draw(tiles.At(panels, i%2, i/2))
	}
	legend.Draw(draw.Crop(dc, 16*vg.Inch-legendW, 0, 0, 0))
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

func (rep *report) panelPlot(pn panel, legend *plot.Legend, addLegend bool) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = pn.title
	p.Y.Label.Text = pn.unit + " (log scale)"
	groups := transports
	// values[j][g]: variant j in group g; zero when absent.
	values := make([][]float64, len(rep.Variants))
	lo, hi := math.Inf(1), math.Inf(-1)
	for j, v := range rep.Variants {
		values[j] = make([]float64, len(groups))
		for g, t := range groups {
			if r := rep.find(pn.scenario, t, pn.size, v.Name); r != nil {
				if x := pn.value(r); x > 0 {
					values[j][g] = x
					lo, hi = math.Min(lo, x), math.Max(hi, x)
				}
			}
		}
	}
	if math.IsInf(lo, 0) {
		lo, hi = 1, 10
	}
	// Bars rise from 10^base, below the smallest value.
	base := math.Floor(math.Log10(lo))
	top := math.Ceil(math.Log10(hi))
	w := vg.Points(8)
	n := len(rep.Variants)
	for j, v := range rep.Variants {
		vals := make(plotter.Values, len(groups))
		any := false
		for g := range groups {
			if x := values[j][g]; x > 0 {
				vals[g] = math.Log10(x) - base
				any = true
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
		bars.Color = variantColor(j)
		bars.Offset = vg.Length(float64(j)-float64(n-1)/2) * w
		p.Add(bars)
		if addLegend {
			legend.Add(v.Name, bars)
		}
	}
	labels := make([]string, len(groups))
	for g, t := range groups {
		labels[g] = t
		if t == "inproc" {
			labels[g] = "inproc (chan: plain channels)"
		}
	}
	p.NominalX(labels...)
	p.Y.Min = 0
	p.Y.Max = top - base
	var ticks []plot.Tick
	for k := 0.0; k <= top-base; k++ {
		ticks = append(ticks, plot.Tick{Value: k, Label: siLabel(math.Pow(10, k+base))})
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
