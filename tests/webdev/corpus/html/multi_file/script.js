document.getElementById('title').textContent = 'Styles and script from their own files';
if (getComputedStyle(document.body).backgroundColor !== 'rgb(38, 50, 56)') {
  throw new Error('styles.css was not applied');
}
