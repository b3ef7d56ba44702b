// The graph view: a graphology graph drawn by sigma.js (WebGL), laid out by ForceAtlas2 in a
// web worker after new nodes are placed around the node they came from.

import Graph from "graphology";
import Sigma from "sigma";
import { EdgeLineProgram, EdgeRectangleProgram, NodeCircleProgram, NodePointProgram } from "sigma/rendering";
import forceAtlas2 from "graphology-layout-forceatlas2";
import FA2Layout from "graphology-layout-forceatlas2/worker";

const KIND_COLOURS = {
  Enterprise: "#4c8dd6",
  core: "#f2b134",
  Person: "#a77bd8",
  Financing: "#2bb3a3",
  CreditLine: "#2bb3a3",
  Voucher: "#59c36a",
  other: "#8a9bab",
};
const EDGE_COLOURS = {
  SUPPLIES: "#3d5a78",
  HOLDS: "#6d4f8f",
  ROLE: "#6d4f8f",
  GUARANTEES: "#a35a2b",
  BORROWER: "#23766d",
  GRANTED_TO: "#23766d",
  HELD_BY: "#2f7a3a",
  ISSUED_BY: "#2f7a3a",
};
// Views above this many nodes are drawn for speed: no edges or labels while the camera moves,
// and one vertex per node (points) and per edge end (lines) instead of instanced triangles.
// Software WebGL (SwiftShader in headless Chromium, and the GPU-less virtual desktops many
// banks give analysts) runs an instanced draw one instance at a time: at 10k nodes a redraw
// took 250 ms with the instanced programs and 30 ms with these.
const BIG_VIEW = 2000;
const DETAILED_PROGRAMS = {
  nodeProgramClasses: { circle: NodeCircleProgram },
  edgeProgramClasses: { line: EdgeRectangleProgram },
};
const FAST_PROGRAMS = {
  nodeProgramClasses: { circle: NodePointProgram },
  edgeProgramClasses: { line: EdgeLineProgram },
};
const HIGHLIGHT = "#ff4d6d";
const DIM = "#26323f";

// Labels on the dark theme: light text (about 15:1 on the page's background, WCAG AA asks
// 4.5:1) with a halo of the background colour so that edges passing under a label do not
// lower its contrast. sigma's own label and hover drawing assume a white page.
export const LABEL = { color: "#e6edf3", halo: "#0f1720", size: 13, font: 'system-ui, "Noto Sans CJK SC", sans-serif', weight: "500" };
const HOVER_BOX = { fill: "#17212c", border: "#7cc4ff" };
// Smallest drawn node size (px) that gets a label: in a small view every firm's, since labels
// never overlap (drawLabel); in a big one only the largest, for speed.
const SMALL_VIEW_LABELS = 4;
const LABEL_GAP = 3; // px between a node's disc and its label
const LABEL_PAD = 2; // px kept free around every label

// The box a label takes on the labels canvas (viewport pixels), from sigma's display data.
function labelBox(context, data) {
  context.font = `${LABEL.weight} ${LABEL.size}px ${LABEL.font}`;
  const width = context.measureText(data.label).width;
  const x = data.x + data.size + LABEL_GAP;
  const y = data.y + LABEL.size / 3 - LABEL.size; // the text's baseline less its height
  return { x: x - LABEL_PAD, y: y - LABEL_PAD, w: width + 2 * LABEL_PAD, h: LABEL.size * 1.25 + 2 * LABEL_PAD };
}

const overlaps = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

function drawText(context, data) {
  context.font = `${LABEL.weight} ${LABEL.size}px ${LABEL.font}`;
  context.lineJoin = "round";
  context.lineWidth = 3;
  context.strokeStyle = LABEL.halo;
  context.strokeText(data.label, data.x + data.size + LABEL_GAP, data.y + LABEL.size / 3);
  context.fillStyle = LABEL.color;
  context.fillText(data.label, data.x + data.size + LABEL_GAP, data.y + LABEL.size / 3);
}

// Green (0) to amber to red (1); grey when a score is missing.
export function scoreColour(score) {
  if (score === null || score === undefined || Number.isNaN(score)) return "#56616c";
  const s = Math.max(0, Math.min(1, score));
  const hue = 130 - 130 * s;
  return `hsl(${hue.toFixed(0)}, 70%, ${(48 - 6 * s).toFixed(0)}%)`;
}

export class View {
  constructor(container, { onSelect } = {}) {
    this.graph = new Graph({ type: "directed", multi: false, allowSelfLoops: true });
    this.colourBy = "kind";
    this.highlight = null; // { nodes: Set, edges: Set } or null
    this.selected = null;
    this.layout = null;
    this.layoutTimer = null;
    this.firstPaint = null;
    this.big = false;
    this.renderer = new Sigma(this.graph, container, {
      ...DETAILED_PROGRAMS,
      renderEdgeLabels: false,
      labelRenderedSizeThreshold: SMALL_VIEW_LABELS,
      labelSize: LABEL.size,
      labelFont: LABEL.font,
      labelWeight: LABEL.weight,
      labelColor: { color: LABEL.color },
      defaultDrawNodeLabel: (context, data) => this.drawLabel(context, data),
      defaultDrawNodeHover: (context, data) => this.drawHover(context, data),
      defaultEdgeType: "line",
      zIndex: true,
      nodeReducer: (node, data) => this.reduceNode(node, data),
      edgeReducer: (edge, data) => this.reduceEdge(edge, data),
    });
    // Labels drawn this frame, as boxes in viewport pixels (read by the browser tests): a label
    // that would cover one already drawn is left out. Forced labels (the selection, a small
    // highlight) are placed first, since sigma draws them after the others.
    this.drawnLabels = [];
    this.renderer.on("beforeRender", () => this.reserveForcedLabels());
    this.renderer.on("afterRender", () => {
      if (this.firstPaint === null && this.graph.order > 0) {
        this.firstPaint = performance.now();
        window.dispatchEvent(new CustomEvent("chainlens:first-paint", { detail: this.firstPaint }));
      }
    });
    this.renderer.on("clickNode", ({ node }) => onSelect && onSelect(node, this.graph.getNodeAttributes(node)));
  }

  reserveForcedLabels() {
    this.drawnLabels = [];
    const r = this.renderer;
    const context = r.getCanvases().labels?.getContext("2d");
    if (!context) return;
    // sigma updates its matrix after this event: the camera's state gives this frame's.
    const cameraState = r.getCamera().getState();
    for (const node of r.nodesWithForcedLabels || []) {
      const data = r.getNodeDisplayData(node);
      if (!data || data.hidden || !data.label) continue;
      const at = r.framedGraphToViewport(data, { cameraState });
      const box = labelBox(context, { label: data.label, x: at.x, y: at.y, size: r.scaleSize(data.size) });
      this.drawnLabels.push({ node, forced: true, ...box });
    }
  }

  drawLabel(context, data) {
    if (!data.label) return;
    if (!data.forceLabel) {
      const box = labelBox(context, data);
      if (this.drawnLabels.some((b) => overlaps(b, box))) return;
      this.drawnLabels.push({ node: data.key, forced: false, ...box });
    }
    drawText(context, data);
  }

  // The hovered node: its label on a dark box with a light border, never white on white.
  drawHover(context, data) {
    if (typeof data.label !== "string" || !data.label) return;
    const box = labelBox(context, data);
    context.beginPath();
    context.arc(data.x, data.y, data.size + LABEL_PAD, 0, Math.PI * 2);
    context.rect(box.x, box.y, box.w, box.h);
    context.fillStyle = HOVER_BOX.fill;
    context.fill();
    context.lineWidth = 1;
    context.strokeStyle = HOVER_BOX.border;
    context.strokeRect(box.x, box.y, box.w, box.h);
    drawText(context, data);
  }

  colourOf(attrs) {
    if (this.colourBy === "fraudScore" || this.colourBy === "defaultScore") {
      return attrs.kind === "Enterprise" ? scoreColour(attrs[this.colourBy]) : KIND_COLOURS.other;
    }
    if (attrs.isCore) return KIND_COLOURS.core;
    return KIND_COLOURS[attrs.kind] || KIND_COLOURS.other;
  }

  reduceNode(node, data) {
    const out = { ...data, color: this.colourOf(data) };
    if (this.highlight) {
      if (this.highlight.nodes.has(node)) {
        out.color = this.highlight.colours?.get(node) || HIGHLIGHT;
        out.zIndex = 2;
        out.forceLabel = this.highlight.nodes.size <= 40;
        out.size = data.size * 1.4;
      } else {
        out.color = DIM;
        out.label = null;
        out.zIndex = 0;
      }
    }
    if (node === this.selected) {
      out.highlighted = true;
      out.forceLabel = true;
      out.zIndex = 3;
    }
    return out;
  }

  reduceEdge(edge, data) {
    const out = { ...data };
    if (this.highlight) {
      if (this.highlight.edges.has(edge)) {
        out.color = HIGHLIGHT;
        out.size = Math.max(2, data.size * 2);
        out.zIndex = 2;
      } else {
        out.color = DIM;
        out.zIndex = 0;
      }
    }
    return out;
  }

  // Adds nodes and edges of an API subgraph; new nodes start on a ring around a neighbour
  // already placed (or the centre), so the first frame is readable before the layout runs.
  merge(nodes, edges, { around = null } = {}) {
    const g = this.graph;
    let added = 0;
    for (const n of nodes) {
      const attrs = {
        label: n.name,
        kind: n.label,
        isCore: !!n.isCore,
        fraudScore: n.fraudScore ?? null,
        defaultScore: n.defaultScore ?? null,
        uscc: n.uscc ?? null,
        status: n.status ?? null,
        tier: n.tier ?? null,
      };
      if (g.hasNode(n.id)) {
        g.mergeNodeAttributes(n.id, attrs);
      } else {
        g.addNode(n.id, { ...attrs, x: 0, y: 0, size: n.isCore ? 9 : n.label === "Enterprise" ? 5 : 3.5 });
        g.setNodeAttribute(n.id, "placed", false);
        added += 1;
      }
    }
    for (const e of edges) {
      if (!g.hasNode(e.source) || !g.hasNode(e.target)) continue;
      const key = `${e.source}>${e.target}:${e.type}`;
      const attrs = { relation: e.type, amount: Number(e.amount || 0), pct: e.pct ?? null,
        color: EDGE_COLOURS[e.type] || "#3a4a5a" };
      if (g.hasEdge(key)) g.mergeEdgeAttributes(key, attrs);
      else g.addEdgeWithKey(key, e.source, e.target, { ...attrs, size: 1 });
    }
    this.place(around);
    this.adaptToSize();
    return added;
  }

  place(around) {
    const g = this.graph;
    const unplaced = g.filterNodes((_, a) => !a.placed);
    if (!unplaced.length) return;
    // Breadth-first from placed nodes: each new node goes on a ring around a placed neighbour.
    const children = new Map();
    const orphans = [];
    for (const node of unplaced) {
      const parent = g.neighbors(node).find((m) => g.getNodeAttribute(m, "placed"));
      if (parent) {
        if (!children.has(parent)) children.set(parent, []);
        children.get(parent).push(node);
      } else orphans.push(node);
    }
    if (orphans.length) {
      const centre = around && g.hasNode(around) && g.getNodeAttribute(around, "placed")
        ? g.getNodeAttributes(around) : { x: 0, y: 0 };
      const first = orphans.shift();
      g.mergeNodeAttributes(first, { x: centre.x, y: centre.y, placed: true });
      children.set(first, orphans); // the rest go round the first, then the layout sorts them
    }
    const queue = [...children.keys()];
    const seen = new Set();
    while (queue.length) {
      const parent = queue.shift();
      if (seen.has(parent)) continue;
      seen.add(parent);
      const kids = (children.get(parent) || []).filter((k) => !g.getNodeAttribute(k, "placed"));
      const { x, y } = g.getNodeAttributes(parent);
      const radius = 10 + 4 * Math.sqrt(kids.length);
      kids.forEach((kid, i) => {
        const angle = (2 * Math.PI * i) / Math.max(kids.length, 1) + Math.random() * 0.2;
        g.mergeNodeAttributes(kid, { x: x + radius * Math.cos(angle), y: y + radius * Math.sin(angle), placed: true });
        queue.push(kid);
      });
      for (const kid of kids) {
        for (const m of g.neighbors(kid)) {
          if (!g.getNodeAttribute(m, "placed")) {
            if (!children.has(kid)) children.set(kid, []);
            children.get(kid).push(m);
          }
        }
      }
    }
    for (const node of g.filterNodes((_, a) => !a.placed)) {
      g.mergeNodeAttributes(node, { x: (Math.random() - 0.5) * 100, y: (Math.random() - 0.5) * 100, placed: true });
    }
  }

  // Switches between the detailed and the fast way of drawing (see BIG_VIEW) when the view
  // crosses its size; thick highlighted edges are drawn one pixel wide in big views.
  adaptToSize() {
    const big = this.graph.order > BIG_VIEW;
    if (big === this.big) return;
    this.big = big;
    this.renderer.setSettings({
      ...(big ? FAST_PROGRAMS : DETAILED_PROGRAMS),
      labelRenderedSizeThreshold: big ? 14 : SMALL_VIEW_LABELS,
      hideEdgesOnMove: big,
      hideLabelsOnMove: big,
    });
  }

  // ForceAtlas2 in a web worker for a bounded time (longer for bigger graphs), then stopped so
  // that panning a large view costs the renderer alone.
  runLayout(ms) {
    this.stopLayout();
    if (this.graph.order < 3) return;
    const budget = ms ?? Math.min(4000, 800 + this.graph.order / 3);
    const settings = forceAtlas2.inferSettings(this.graph);
    this.layout = new FA2Layout(this.graph, { settings: { ...settings, barnesHutOptimize: this.graph.order > 500 } });
    this.layout.start();
    window.dispatchEvent(new Event("chainlens:layout-start"));
    this.layoutTimer = setTimeout(() => this.stopLayout(), budget);
  }

  stopLayout() {
    if (this.layoutTimer) clearTimeout(this.layoutTimer);
    this.layoutTimer = null;
    if (this.layout) {
      this.layout.kill();
      this.layout = null;
      window.dispatchEvent(new Event("chainlens:layout-stop"));
    }
  }

  get layoutRunning() {
    return this.layout !== null;
  }

  setColourBy(mode) {
    this.colourBy = mode;
    this.renderer.refresh();
  }

  select(node) {
    this.selected = node;
    this.renderer.refresh();
  }

  setHighlight(nodeIds, edgeKeys = [], colours = null) {
    const nodes = new Set(nodeIds.filter((n) => this.graph.hasNode(n)));
    const edges = new Set(edgeKeys.filter((e) => this.graph.hasEdge(e)));
    this.highlight = nodes.size || edges.size ? { nodes, edges, colours } : null;
    this.renderer.refresh();
    return nodes.size;
  }

  // Edge keys of the relations of `type` among `ids` (both directions), for cycles and paths.
  edgesAmong(ids, types = null) {
    const inside = new Set(ids);
    const keys = [];
    for (const id of inside) {
      if (!this.graph.hasNode(id)) continue;
      this.graph.forEachOutEdge(id, (edge, attrs, _s, target) => {
        if (inside.has(target) && (!types || types.includes(attrs.relation))) keys.push(edge);
      });
    }
    return keys;
  }

  focus(node) {
    if (!this.graph.hasNode(node)) return;
    const pos = this.renderer.getNodeDisplayData(node);
    if (pos) this.renderer.getCamera().animate({ x: pos.x, y: pos.y, ratio: 0.6 }, { duration: 400 });
  }

  clear() {
    this.stopLayout();
    this.graph.clear();
    this.adaptToSize();
    this.highlight = null;
    this.selected = null;
  }
}
