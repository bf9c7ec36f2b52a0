totals = {"apples": 3, "pears": 0}
print("Ratios:")
for fruit, count in totals.items():
    print(fruit, 12 / count)
