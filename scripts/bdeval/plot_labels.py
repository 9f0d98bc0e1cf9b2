"""Names beside plotted points (matplotlib): each point's text level with it, moved along until it
covers no earlier name; points that lie on one another named once. Positions in points."""


def in_points(ax, x, y):
    scale = 72.0 / ax.figure.dpi
    return tuple(v * scale for v in ax.transData.transform((x, y)))


def drop_names(ax, line, near=4.0):
    """[(text, x, y)]: each point's drop%, points that lie on one another named once ('2,4')."""
    groups = []
    for drop, x, y in line:
        here = in_points(ax, x, y)
        for group in groups:
            if abs(group[3][0] - here[0]) < near and abs(group[3][1] - here[1]) < near:
                group[0].append(drop)
                break
        else:
            groups.append(([drop], x, y, here))
    return [(",".join("{:g}".format(d) for d in drops), x, y) for drops, x, y, _ in groups]


def name_point(ax, text, x, y, colour, placed, height=8.0):
    """Name a point level with it: to its right, or to its left where the right side would leave
    the panel, moved on while it would cover an earlier name (placed: their (x, y, width) in
    points)."""
    px, py = in_points(ax, x, y)
    width = 4.2 * len(text) + 2
    dx = free_offset(placed, px, py, width, height, 4.0, 1)
    if px + dx + width > ax.get_window_extent().x1 * 72.0 / ax.figure.dpi:
        dx = free_offset(placed, px, py, width, height, -4.0 - width, -1)
    placed.append((px + dx, py, width))
    ax.annotate(text, (x, y), textcoords="offset points", xytext=(dx, 3), fontsize=7, color=colour)


def free_offset(placed, px, py, width, height, dx, direction):
    """The first offset from dx, going right (direction 1) or left (-1), where a name of this
    width covers none of the placed ones."""
    while True:
        over = [
            (qx, qw)
            for qx, qy, qw in placed
            if qx < px + dx + width and px + dx < qx + qw and abs(py - qy) < height
        ]
        if not over:
            return dx
        if direction > 0:
            dx = max(qx + qw for qx, qw in over) - px + 1
        else:
            dx = min(qx for qx, _ in over) - px - width - 1
