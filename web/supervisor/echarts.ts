// ECharts, only the parts the supervisor's charts use (line and bar charts; grid, tooltip,
// legend and markLine; the canvas renderer), so the page's JavaScript stays small. A chart
// mounts with useChart: made on mount, resized with its box, disposed on unmount.
import { BarChart, type BarSeriesOption, LineChart, type LineSeriesOption } from 'echarts/charts';
import {
  GridComponent,
  type GridComponentOption,
  LegendComponent,
  type LegendComponentOption,
  MarkLineComponent,
  type MarkLineComponentOption,
  TooltipComponent,
  type TooltipComponentOption,
} from 'echarts/components';
import { type ComposeOption, type ECharts, init, use } from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { onBeforeUnmount, onMounted, type Ref, watch } from 'vue';

use([LineChart, BarChart, GridComponent, TooltipComponent, LegendComponent, MarkLineComponent, CanvasRenderer]);

export type ChartOption = ComposeOption<
  | LineSeriesOption
  | BarSeriesOption
  | GridComponentOption
  | TooltipComponentOption
  | LegendComponentOption
  | MarkLineComponentOption
>;

/** Draws `option()` into the element, again whenever what it reads changes. */
export function useChart(el: Ref<HTMLElement | undefined>, option: () => ChartOption): void {
  let chart: ECharts | undefined;
  let observer: ResizeObserver | undefined;
  onMounted(() => {
    if (!el.value) return;
    chart = init(el.value, undefined, { renderer: 'canvas' });
    chart.setOption(option());
    observer = new ResizeObserver(() => chart?.resize());
    observer.observe(el.value);
  });
  watch(option, (next) => chart?.setOption(next, { notMerge: true }));
  onBeforeUnmount(() => {
    observer?.disconnect();
    chart?.dispose();
  });
}
