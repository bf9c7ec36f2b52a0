from stats import mean, median

scores = [72, 88, 95, 61, 79, 88]
print(f"mean:   {mean(scores):.2f}")
print(f"median: {median(scores)}")
