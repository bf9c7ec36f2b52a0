from js import document

root = document.getElementById("root")
table = document.createElement("table")
table.style.borderCollapse = "collapse"
for row in range(1, 6):
    tr = document.createElement("tr")
    for col in range(1, 6):
        td = document.createElement("td")
        td.textContent = str(row * col)
        td.style.border = "1px solid #888"
        td.style.padding = "6px 10px"
        tr.appendChild(td)
    table.appendChild(tr)
root.appendChild(table)

canvas = document.createElement("canvas")
canvas.width = 200
canvas.height = 100
ctx = canvas.getContext("2d")
ctx.fillStyle = "#1e88e5"
ctx.fillRect(10, 10, 180, 80)
root.appendChild(canvas)
